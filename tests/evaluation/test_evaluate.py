"""Mood model, analyze and evaluate end to end on tiny models trained on a tiny builtin corpus."""

import json

import numpy as np
import pytest

from moodtune.cli import main
from moodtune.data import prepare
from moodtune.errors import MoodtuneError
from moodtune.evaluation.mood_model import MoodModel
from moodtune.evaluation.mood_training import MoodTrainConfig, train_mood
from moodtune.evaluation.musicality import MUSICALITY
from moodtune.evaluation.report import EvaluateConfig, evaluate
from moodtune.training.recipe import train
from moodtune.training.spectrogram import SpectrogramTrainConfig
from moodtune.training.symbolic import SymbolicTrainConfig
from tests.conftest import music_like, write_audio


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("eval_builtin")
    prepare("builtin", None, out, clip_seconds=4.0, limit=5, workers=1, progress=False)
    return out


@pytest.fixture(scope="module")
def mood_run(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("mood")
    results = train_mood(
        MoodTrainConfig(data=str(data_dir), out=str(out), epochs=60, patience=60), progress=False
    ).flat()
    return out, results


def test_mood_model_learns_arousal_and_reports_r2(mood_run, data_dir):
    out, results = mood_run
    assert results["epochs"] == 60
    for key in ("test_valence_r2", "test_arousal_r2", "test_valence_rmse", "test_quadrant_accuracy"):
        assert np.isfinite(results[key])
    assert results["val_arousal_r"] > 0.5  # arousal cues (tempo, loudness) are easy even for a tiny corpus
    assert (out / "plots" / "test_predictions.png").is_file()
    model = MoodModel.from_checkpoint(out)
    va = model.predict(music_like(5.0, 22050), 22050)
    assert va.shape == (2,) and np.all(np.abs(va) <= 1)
    times, curve = model.curve(music_like(7.0, 44100), 44100)
    assert curve.shape == (len(times), 2) and len(times) == 4


def test_analyze_reports_bad_files_and_writes_curves(mood_run, tmp_path, capsys):
    out, _ = mood_run
    folder = tmp_path / "music"
    write_audio(folder / "a.wav", music_like(6.0, 22050, seed=1), 22050)
    write_audio(folder / "b.flac", music_like(3.0, 22050, seed=2), 22050)
    (folder / "broken.wav").write_bytes(b"RIFF0000WAVEjunk")
    code = main(
        [
            "analyze",
            str(folder),
            "--model",
            str(out),
            "--curve",
            "--out",
            str(tmp_path / "curves"),
            "--csv",
            str(tmp_path / "table.csv"),
        ]
    )
    text = capsys.readouterr()
    assert code == 0
    assert "broken.wav" in text.err and "1 file(s) skipped" in text.out
    table = (tmp_path / "table.csv").read_text().splitlines()
    assert table[0] == "file,seconds,valence,arousal,mood" and len(table) == 3
    curve = (tmp_path / "curves" / "a.csv").read_text().splitlines()
    assert curve[0] == "time,valence,arousal" and len(curve) == 1 + 3
    assert (tmp_path / "curves" / "a.png").is_file()


def test_analyze_with_only_bad_files_exits_2(mood_run, tmp_path, capsys):
    (tmp_path / "x.wav").write_bytes(b"")
    assert main(["analyze", str(tmp_path / "x.wav"), "--model", str(mood_run[0])]) == 2


def test_evaluate_spectrogram_engine(data_dir, mood_run, tmp_path_factory):
    run = tmp_path_factory.mktemp("spec")
    cfg = SpectrogramTrainConfig(data=str(data_dir), out=str(run), epochs=1, size="debug", latent_dim=8, batch_size=8)
    train(cfg, progress=False).flat()
    out = tmp_path_factory.mktemp("report_spec")
    report = evaluate(
        EvaluateConfig(
            str(run),
            str(data_dir),
            str(out),
            n=4,
            seconds=3.0,
            mood_model=str(mood_run[0]),
            trajectory="sad:0,happy:8",
            trajectory_seeds=2,
        ),
        progress=False,
        say=lambda _: None,
    )
    names = [r["set"] for r in report["rows"]]
    assert names == ["spectrogram: generated", "real held-out", "trivial: shaped noise"]
    for row in report["rows"]:
        assert row["fad_mfcc"] >= 0 and np.isfinite(row["fad_mood"])
        assert 0 <= row["quadrant_accuracy"] <= 1
    assert report["rows"][1]["diversity_vs_real"] == 1.0
    recon = {r["set"]: r for r in report["reconstruction"]}
    assert len(recon) == 2 and all(r["lsd_db"] > 0 for r in recon.values())
    traj = report["trajectory"]
    assert len(traj["curve"]["time"]) == 5 and [s["seed"] for s in traj["per_seed"]] == [0, 1]
    rs = [s["arousal_r"] for s in traj["per_seed"] if s["arousal_r"] is not None]
    assert traj["arousal_r"] == (pytest.approx(np.mean(rs), abs=1e-4) if rs else None)
    features = report["plain_features"]["per_mood"]
    assert set(features) == {"happy", "angry", "sad", "calm"} and all(f["n"] == 1 for f in features.values())
    saved = json.loads((out / "report.json").read_text())
    assert saved["rows"] == report["rows"]
    md = (out / "report.md").read_text()
    assert "real held-out" in md and "trivial: shaped noise" in md and "Reconstruction" in md
    assert (out / "trajectory.png").is_file() and (out / "mood_generated.png").is_file()
    assert report["sampling"] == {} and "Sampled with" not in md  # no sampling knobs in this engine


def test_evaluate_symbolic_engine_via_cli(data_dir, mood_run, tmp_path_factory, capsys):
    run = tmp_path_factory.mktemp("sym")
    train(SymbolicTrainConfig(data=str(data_dir), out=str(run), epochs=2, size="debug"), progress=False)
    out = tmp_path_factory.mktemp("report_sym")
    code = main(
        [
            "evaluate",
            "--checkpoint",
            str(run),
            "--data",
            str(data_dir),
            "--out",
            str(out),
            "--n",
            "4",
            "--seconds",
            "3",
            "--mood-model",
            str(mood_run[0]),
            "--trajectory",
            "calm:0,angry:8",
            "--trajectory-seeds",
            "1",
            "--musicality-seconds",
            "8",
            "--quiet",
        ]
    )
    assert code == 0
    report = json.loads((out / "report.json").read_text())
    assert [r["set"] for r in report["rows"]][2] == "trivial: random notes"
    mus = report["musicality"]
    assert mus["seconds"] == 8.0
    assert [r["set"] for r in mus["rows"]] == [
        "symbolic: generated",
        "real held-out",
        "trivial: real notes shuffled in time",
    ]
    generated, real, shuffled = mus["rows"]
    # the real pieces' order is what the shuffled row loses: their top line moves by step, their beats are chords
    assert real["topline_stepwise"] > shuffled["topline_stepwise"]
    assert real["chord_clarity"] > shuffled["chord_clarity"]
    assert real["topline_stepwise_vs_real"] == 1.0 and generated["pieces"] == real["pieces"] == 4
    assert all(0.0 <= r[m] <= 1.0 for r in mus["rows"] for m in MUSICALITY if r[m] is not None)
    assert (out / "musicality.png").is_file() and "## Musicality" in (out / "report.md").read_text()
    real = report["rows"][1]
    assert real["symbolic_overlap_mean"] > report["rows"][2]["symbolic_overlap_mean"]
    assert 0.0 <= real["scale_consistency_overlap"] <= 1.0
    assert (out / "symbolic_metrics.png").is_file()
    assert "Symbolic metrics" in capsys.readouterr().out
    # what the samples were drawn with is recorded even when not asked for: this model's own defaults
    assert report["sampling"] == {"guidance": 1.0, "top_p": 0.95, "plan": True}
    assert "Sampled with mood guidance 1, nucleus (top-p) 0.95." in (out / "report.md").read_text()


def test_bad_sampling_options_are_refused_before_anything_loads(tmp_path, capsys):
    with pytest.raises(MoodtuneError, match="top-p must lie in"):
        EvaluateConfig("no-such-model", "no-such-data", str(tmp_path), top_p=1.5)
    args = ["--checkpoint", "nowhere", "--data", "nowhere", "--out", str(tmp_path), "--guidance", "-2"]
    code = main(["evaluate", *args])
    assert code == 2 and "guidance must lie in" in capsys.readouterr().err
    code = main(["evaluate", *args[:6], "--musicality-seconds", "0"])
    assert code == 2 and "--musicality-seconds must be a positive number" in capsys.readouterr().err
