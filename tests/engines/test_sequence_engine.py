import csv

import numpy as np
import pytest

from moodtune.cli import main
from moodtune.data import prepare
from moodtune.engines.base import Request, load_engine
from moodtune.engines.sequence import SequenceEngine
from moodtune.mood import Mood, Trajectory
from moodtune.training.recipe import train
from moodtune.training.sequence import SequenceTrainConfig
from moodtune.training.spectrogram import SpectrogramTrainConfig


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    data = tmp_path_factory.mktemp("seq_data")
    prepare("builtin", None, data, clip_seconds=4.0, limit=4, workers=1, progress=False)
    run = tmp_path_factory.mktemp("seq_vae")
    cfg = SpectrogramTrainConfig(data=str(data), out=str(run), epochs=1, size="debug", latent_dim=8, batch_size=8)
    train(cfg, progress=False).flat()
    return data, run


def _train(vae_run, tmp_path_factory, loss):
    data, vae = vae_run
    out = tmp_path_factory.mktemp(f"seq_{loss}")
    cfg = SequenceTrainConfig(
        data=str(data), vae=str(vae), out=str(out), loss=loss, epochs=25, size="debug", steps=4, batch_size=8
    )
    return out, train(cfg, progress=False).flat()


def _epoch_means(run, key):
    rows = list(csv.DictReader((run / "logs" / "version_0" / "metrics.csv").open()))
    return [float(r[key]) for r in rows if r.get(key)]


@pytest.fixture(scope="module")
def gan_run(vae_run, tmp_path_factory):
    return _train(vae_run, tmp_path_factory, "gan")


@pytest.mark.parametrize("loss", ["l2", "gan"])
def test_both_loss_modes_train_and_lower_the_l2(vae_run, gan_run, tmp_path_factory, loss):
    run, results = gan_run if loss == "gan" else _train(vae_run, tmp_path_factory, "l2")
    l2 = _epoch_means(run, "train/l2_epoch")
    assert len(l2) == 25 and np.mean(l2[-3:]) < l2[0]
    assert results["loss"] == loss and np.isfinite(results["best_val_loss"])
    if loss == "gan":
        assert _epoch_means(run, "train/d_loss_epoch")


def test_thirty_second_rollout_is_finite_and_moves(gan_run):
    engine = load_engine(gan_run[0])
    assert isinstance(engine, SequenceEngine)
    request = Request(mood=Mood.named("happy"), seconds=30, seed=1)
    zs = []
    for i, (z, _) in enumerate(engine.latents(request)):
        zs.append(z.numpy()[0])
        if i == 12:
            break
    zs = np.stack(zs)
    assert np.isfinite(zs).all() and np.std(zs, axis=0).mean() > 1e-3  # not a constant latent
    result = engine.generate(request)
    assert len(result.audio) == 30 * engine.sr
    assert np.isfinite(result.audio).all()
    rms = np.sqrt(np.mean(result.audio.reshape(10, -1) ** 2, axis=1))
    assert (rms > 1e-4).all()  # no stretch of silence


def test_trajectory_changes_the_output_over_time(gan_run):
    engine = load_engine(gan_run[0])
    fixed = engine.generate(Request(mood=Mood.named("sad"), seconds=20, seed=3)).mel
    moving = engine.generate(Request(trajectory=Trajectory.parse("sad:0,happy:20"), seconds=20, seed=3)).mel
    n = fixed.shape[1]
    start = np.abs(fixed[:, : n // 8] - moving[:, : n // 8]).mean()
    end = np.abs(fixed[:, -n // 8 :] - moving[:, -n // 8 :]).mean()
    assert end > start


def test_continuation_begins_with_the_input(gan_run, tmp_path):
    from tests.conftest import music_like, write_audio

    engine = load_engine(gan_run[0])
    audio = music_like(5.0, engine.sr, seed=4)
    path = write_audio(tmp_path / "in.wav", audio, engine.sr)
    out = tmp_path / "out.wav"
    assert (
        main(
            [
                "continue",
                str(path),
                "--checkpoint",
                str(gan_run[0]),
                "--seconds",
                "6",
                "--mood",
                "calm",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    import soundfile as sf

    written, sr = sf.read(str(out), dtype="float32")
    assert sr == engine.sr and len(written) == len(audio) + 6 * sr
    head = int(4.4 * sr)
    assert np.max(np.abs(written[:head] - audio[:head])) < 1e-3  # PCM-16 rounding only
    assert np.sqrt(np.mean(written[-sr:] ** 2)) > 1e-4
    assert out.with_suffix(".png").is_file()


def test_continue_refuses_other_engines(vae_run, tmp_path, capsys):
    from tests.conftest import music_like, write_audio

    path = write_audio(tmp_path / "in.wav", music_like(3.0, 22050), 22050)
    code = main(["continue", str(path), "--checkpoint", str(vae_run[1]), "--out", str(tmp_path / "o.wav")])
    assert code == 2 and "cannot continue audio" in capsys.readouterr().err


def test_steps_take_dynamic_annotations_where_there_are_some():
    import json

    from moodtune.training.sequence import step_mood

    clip = {"start_s": 10.0, "valence": 0.1, "arousal": 0.2, "va_curve": json.dumps([[0.5, -0.5], [None, None]])}
    assert step_mood(clip, 10.4) == [0.5, -0.5, 1.0]
    assert step_mood(clip, 11.5) == [0.1, 0.2, 1.0]  # not annotated there: the static label
    assert step_mood({**clip, "va_curve": ""}, 10.4) == [0.1, 0.2, 1.0]


def test_shipped_copy_is_half_precision_and_shares_the_vae(vae_run, gan_run, tmp_path):
    from safetensors import safe_open

    from moodtune.engines.checkpoint import load_checkpoint, save_checkpoint, save_shipped
    from moodtune.errors import MoodtuneError

    shipped = tmp_path / "pretrained"
    with pytest.raises(MoodtuneError, match="spectrogram"):  # the VAE it shares must be shipped first
        save_shipped(gan_run[0], shipped / "sequence", {"vae.": "spectrogram"})
    save_shipped(vae_run[1], shipped / "spectrogram")
    save_shipped(gan_run[0], shipped / "sequence", {"vae.": "spectrogram"})
    with safe_open(str(shipped / "sequence" / "model.safetensors"), "pt") as f:
        keys = list(f.keys())
        assert keys and not any(k.startswith("vae.") for k in keys)
        assert {str(f.get_tensor(k).dtype) for k in keys if f.get_tensor(k).is_floating_point()} == {"torch.float16"}
    request = Request(mood=Mood.named("sad"), seconds=4, seed=0)
    full, half = load_engine(gan_run[0]).generate(request), load_engine(shipped / "sequence").generate(request)
    assert full.audio.shape == half.audio.shape
    assert np.corrcoef(full.audio, half.audio)[0, 1] > 0.9  # float16 weights: nearly the same music
    state, config = load_checkpoint(vae_run[1])  # a VAE with other weights is refused
    body = {k: v for k, v in config.items() if k not in ("format", "engine", "moodtune_version")}
    save_checkpoint(tmp_path / "other" / "spectrogram", "spectrogram", {k: v + 0.1 for k, v in state.items()}, body)
    with pytest.raises(MoodtuneError, match="not those of"):
        save_shipped(gan_run[0], tmp_path / "other" / "sequence", {"vae.": "spectrogram"})
