"""The models shipped in the package: they load, generate, have cards, fit the size limit, and the CLI, the
Python API and the demo use them without a checkpoint."""

import hashlib
import json
import re
from pathlib import Path

import numpy as np
import pytest

import moodtune
from moodtune.api import load_mood_model, open_engine
from moodtune.cards import read_card
from moodtune.catalog import shipped_models
from moodtune.cli import main
from moodtune.engines.base import Request
from moodtune.errors import MoodtuneError
from moodtune.mood import Mood
from moodtune.shipped import MOOD_MODEL, SHIPPED_DIR, default_engine, shipped_names

ROOT = Path(__file__).resolve().parent.parent
ENGINES = [n for n in shipped_names() if n != MOOD_MODEL]


def test_every_engine_and_the_mood_model_is_shipped():
    assert set(shipped_names()) == {"spectrogram", "symbolic", "sequence", "waveform", "latent", MOOD_MODEL}
    assert default_engine() in ENGINES


def test_shipped_weights_total_at_most_30_mb():
    total = sum(f.stat().st_size for f in SHIPPED_DIR.rglob("*") if f.is_file())
    assert total <= 30e6, f"{total / 1e6:.1f} MB"


@pytest.mark.parametrize("name", ENGINES)
def test_every_shipped_engine_generates_four_seconds(name):
    engine = moodtune.load(name)
    result = engine.generate(Request(mood=Mood.named("happy"), seconds=4.0, seed=0))
    assert result.audio.dtype == np.float32 and np.all(np.isfinite(result.audio))
    assert 3.9 < len(result.audio) / result.sr < 6.0  # the symbolic engine lets its last notes ring
    assert np.sqrt(np.mean(result.audio**2)) > 1e-3  # not silence
    assert np.abs(result.audio).max() <= 1.0


def test_shipped_mood_model_reads_audio():
    model = load_mood_model()
    t = np.arange(4 * model.sr) / model.sr
    v, a = model.predict((0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), model.sr)
    assert -1.5 < v < 1.5 and -1.5 < a < 1.5


@pytest.mark.parametrize("name", shipped_names())
def test_every_card_names_its_command_data_and_metrics(name):
    card = read_card(SHIPPED_DIR / name)
    assert card["command"].startswith("moodtune train ")
    assert len(card["data"]["fingerprint"]) == 12 and card["machine"]["cores"] >= 1
    assert card["reason"] and card["limits"]
    weights = (SHIPPED_DIR / name / "model.safetensors").read_bytes()
    assert hashlib.sha256(weights).hexdigest() == card["weights_sha256"], "weights changed without a new card"
    config = json.loads((SHIPPED_DIR / name / "config.json").read_text())
    assert config["weights_sha256"] == card["weights_sha256"], "the load-time check guards the shipped weights too"
    if name == MOOD_MODEL:
        assert "test_quadrant_accuracy" in card["metrics"]
    else:
        assert card["evaluate_command"].startswith("moodtune evaluate ") and "--n 64" in card["evaluate_command"]
        for row in ("generated", "real", "trivial"):
            assert 0.0 <= card["metrics"][row]["quadrant_accuracy"] <= 1.0
    doc = (ROOT / "docs" / "models.md").read_text()
    section = doc.split(f"## {name}\n", 1)[1].split("\n## ", 1)[0]
    assert card["command"] in section  # the doc shows the card's command


def test_models_doc_is_the_rendering_of_the_cards(tmp_path):
    from moodtune.cards import write_models_doc

    fresh = write_models_doc(SHIPPED_DIR, tmp_path / "models.md").read_text()
    assert fresh == (ROOT / "docs" / "models.md").read_text(), "run scripts/make_models.py (make models) again"


def test_generate_without_a_checkpoint(tmp_path, capsys):
    out = tmp_path / "calm.wav"
    assert main(["generate", "--mood", "calm", "--seconds", "3", "--out", str(out), "--quiet"]) == 0
    expected = out if default_engine() != "symbolic" else out.with_suffix(".wav")
    assert expected.is_file() and expected.stat().st_size > 1000
    assert main(["generate", "--engine", "waveform", "--mood", "sad", "--seconds", "2", "--out", str(out)]) == 0


def test_unknown_engine_is_one_clear_error(tmp_path, capsys):
    code = main(["generate", "--engine", "nosuch", "--mood", "calm", "--out", str(tmp_path / "x.wav")])
    assert code == 2 and "nosuch" in capsys.readouterr().err
    with pytest.raises(MoodtuneError, match="not both"):
        open_engine("runs/x", "waveform")


def test_models_lists_the_shipped_ones_with_their_mood_control(tmp_path, capsys):
    assert main(["models", "--dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for name in ENGINES:
        assert name in out
    listed = {e.name: e for e in shipped_models()}
    assert listed[default_engine()].default
    assert all(listed[n].control and 0 <= listed[n].control["quadrant_accuracy"] <= 1 for n in ENGINES)


def test_analyze_without_a_model_uses_the_shipped_one(tmp_path, capsys):
    from tests.conftest import music_like, write_audio

    wav = write_audio(tmp_path / "x.wav", music_like(5.0, 22050), 22050)
    assert main(["analyze", str(wav)]) == 0
    assert re.search(r"[+-]\d\.\d{3}", capsys.readouterr().out)


def test_analyze_skips_audio_too_short_for_a_reading(tmp_path, capsys):
    from tests.conftest import music_like, write_audio

    blip = write_audio(tmp_path / "blip.wav", music_like(0.01, 22050), 22050)  # 220 samples
    song = write_audio(tmp_path / "song.wav", music_like(3.0, 22050), 22050)
    assert main(["analyze", str(blip), str(song)]) == 0
    captured = capsys.readouterr()
    assert "too short to analyse (0.01 s; at least 1 s)" in captured.err.replace("\n", "")
    assert "1 file(s) skipped" in captured.out and "song.wav" in captured.out


def test_demo_writes_a_page_with_a_player_for_every_clip(tmp_path):
    from moodtune.showcase import run_showcase

    report = run_showcase(tmp_path / "demo", seconds=2.0, say=lambda line: None)
    page = (tmp_path / "demo" / "index.html").read_text()
    players = re.findall(r"<audio controls preload='none' src='([^']+)'>", page)
    assert len(players) == len(report.clips) >= 4 * len(ENGINES) + len(ENGINES)
    for src in players + re.findall(r"<img [^>]*src='([^']+)'", page):
        assert not src.startswith(("/", "http")) and (tmp_path / "demo" / src).is_file()
    assert all(-1.5 < v < 1.5 and -1.5 < a < 1.5 for v, a in (c.measured for c in report.clips))
    assert set(report.curves) == set(ENGINES)  # every engine's sad -> happy piece measured over time


def test_demo_training_options_need_train(tmp_path, capsys):
    code = main(["demo", "--out", str(tmp_path / "d"), "--spectrogram-minutes", "5"])
    assert code == 2 and "--spectrogram-minutes" in capsys.readouterr().err
    assert not (tmp_path / "d").exists()


def test_mood_model_is_not_an_engine(tmp_path, capsys):
    assert main(["generate", "--engine", "mood", "--mood", "calm", "--out", str(tmp_path / "x.wav")]) == 2
    assert "analyze" in capsys.readouterr().err
    with pytest.raises(MoodtuneError, match="mood model"):
        moodtune.load("mood")


@pytest.mark.parametrize("name", ["spectrogram", "sequence", "waveform", "latent"])
def test_a_request_without_a_style_is_written_in_a_style_the_model_knows(name):
    """The unknown style is never trained: without a style, the seed draws one of the model's, and the result is
    that of asking for it."""
    import dataclasses

    from moodtune.engines.base import Request
    from moodtune.mood import Mood

    engine = moodtune.load(name)
    request = Request(mood=Mood.named("happy"), seconds=2, seed=5)
    drawn = {engine.with_style(dataclasses.replace(request, seed=s)).style for s in range(20)}
    assert drawn <= set(engine.styles[1:]) and len(drawn) > 1
    asked = engine.with_style(request)
    assert asked.style is not None and engine.with_style(asked) == asked
    assert np.allclose(engine.generate(request).audio, engine.generate(asked).audio)
