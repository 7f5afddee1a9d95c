import csv
import shutil

import numpy as np
import pandas as pd
import pytest
import torch

from moodtune.data import prepare
from moodtune.data.cache import FeatureCache
from moodtune.data.manifest import read_manifest
from moodtune.data.tracks import track_table
from moodtune.engines.base import Request, load_engine
from moodtune.engines.codecs import CodecLatentFeature, SpectrogramCodec, open_codec
from moodtune.engines.latent import LatentEngine
from moodtune.errors import MoodtuneError
from moodtune.mood import Mood
from moodtune.training.latent import LatentTrainConfig
from moodtune.training.recipe import train
from moodtune.training.spectrogram import SpectrogramTrainConfig
from tests.conftest import music_like

EPOCHS = 12


@pytest.fixture(scope="module")
def vae_run(tmp_path_factory):
    data = tmp_path_factory.mktemp("lat_data")
    prepare("builtin", None, data, clip_seconds=4.0, limit=3, workers=1, progress=False)
    run = tmp_path_factory.mktemp("lat_vae")
    cfg = SpectrogramTrainConfig(data=str(data), out=str(run), epochs=1, size="debug", latent_dim=8, batch_size=8)
    train(cfg, progress=False).flat()
    return data, run


@pytest.fixture(scope="module")
def encodec_dir(tmp_path_factory):
    from transformers import EncodecConfig, EncodecModel

    torch.manual_seed(0)
    config = EncodecConfig(
        hidden_size=16,
        num_filters=4,
        codebook_size=32,
        codebook_dim=16,
        num_lstm_layers=1,
        upsampling_ratios=[4, 4, 2, 2],
        target_bandwidths=[1.5, 3.0],
        sampling_rate=8000,
    )
    folder = tmp_path_factory.mktemp("tiny_encodec")
    EncodecModel(config).save_pretrained(folder)
    return folder


def test_spectrogram_codec_round_trip_keeps_shapes(vae_run):
    codec = SpectrogramCodec.from_run(vae_run[1])
    audio = music_like(5.0, codec.sr)
    z = codec.encode(audio)
    assert z.shape == (codec.dim, codec.frames(5.0)) and torch.isfinite(z).all()
    out = codec.decode(z, len(audio))
    assert out.shape == audio.shape and np.isfinite(out).all()


def test_encodec_codec_loads_from_a_folder_and_round_trips(encodec_dir):
    codec = open_codec({"kind": "encodec", "path": str(encodec_dir), "bandwidth": 1.5})
    assert (codec.sr, codec.dim, codec.frame_rate) == (8000, 16, 125.0)
    audio = music_like(2.0, 8000)
    z = codec.encode(audio)
    assert z.shape == (16, codec.frames(2.0)) == (16, 250)
    out = codec.decode(z, len(audio))
    assert out.shape == audio.shape and np.isfinite(out).all()


def test_encodec_errors_are_clear(encodec_dir, tmp_path):
    with pytest.raises(MoodtuneError, match=r"bandwidth 24\.0"):
        open_codec({"kind": "encodec", "path": str(encodec_dir), "bandwidth": 24.0})
    with pytest.raises(MoodtuneError, match="cannot load EnCodec weights"):
        open_codec({"kind": "encodec", "path": str(tmp_path / "nothing here"), "bandwidth": 6.0})


@pytest.fixture(scope="module")
def run(vae_run, tmp_path_factory):
    data, vae = vae_run
    out = tmp_path_factory.mktemp("lat_run")
    cfg = LatentTrainConfig(
        data=str(data),
        out=str(out),
        vae=str(vae),
        clip_seconds=5.0,
        latent_dim=4,
        size="debug",
        epochs=EPOCHS,
        batch_size=4,
        lr=3e-3,
    )
    return out, train(cfg, progress=False).flat()


def test_tiny_model_trains_and_lowers_the_loss(run):
    out, results = run
    rows = list(csv.DictReader((out / "logs" / "version_0" / "metrics.csv").open()))
    loss = [float(r["train/loss_epoch"]) for r in rows if r.get("train/loss_epoch")]
    assert len(loss) == EPOCHS and np.mean(loss[-3:]) < loss[0]
    assert any(r.get("val/mse") for r in rows)
    for plot in ("training_curves.png", "latent_map.png", "moods.png", "reconstruction.png"):
        assert (out / "plots" / plot).is_file()
    assert np.isfinite(results["heldout_mrstft_logmag"]) and np.isfinite(results["heldout_component_mrstft_logmag"])


def test_latents_are_cached_once_with_a_labels_table(vae_run, run):
    data, vae = vae_run
    codec = SpectrogramCodec.from_run(vae)
    feature = CodecLatentFeature(codec)
    table = track_table(read_manifest(data))
    assert FeatureCache(data).ensure(table, feature, progress=False) == 0  # computed by training already
    labels = pd.read_parquet(run[1]["labels_table"])
    assert {"track", "frame", "split", "valence", "arousal", "style"} <= set(labels.columns)
    assert len(labels) == run[1]["train_clips"] + (labels["split"] != "train").sum()


def test_generation_length_and_self_contained_checkpoint(vae_run, run, tmp_path):
    moved = tmp_path / "vae_elsewhere"
    shutil.move(str(vae_run[1]), moved)  # the latent checkpoint embeds its codec
    try:
        engine = load_engine(run[0])
        assert isinstance(engine, LatentEngine)
        request = Request(mood=Mood.named("angry"), seconds=7.3, seed=2)
        a, b = engine.generate(request).audio, load_engine(run[0]).generate(request).audio
        assert len(a) == round(7.3 * engine.sr) and np.isfinite(a).all() and np.abs(a).max() > 0
        assert np.array_equal(a, b)
        other = engine.generate(Request(mood=Mood.named("calm"), seconds=7.3, seed=2)).audio
        assert not np.allclose(a, other)
    finally:
        shutil.move(str(moved), vae_run[1])


def test_latent_engine_over_encodec(vae_run, encodec_dir, tmp_path):
    cfg = LatentTrainConfig(
        data=str(vae_run[0]),
        out=str(tmp_path / "run"),
        encodec=str(encodec_dir),
        bandwidth=1.5,
        clip_seconds=5.0,
        latent_dim=4,
        size="debug",
        epochs=2,
        batch_size=4,
    )
    results = train(cfg, progress=False).flat()
    assert results["codec"] == "encodec" and results["codec_frames_per_clip"] == 625
    engine = load_engine(tmp_path / "run")
    audio = engine.generate(Request(mood=Mood.named("happy"), seconds=6.0, seed=0)).audio
    assert engine.sr == 8000 and len(audio) == 48000 and np.isfinite(audio).all()
    rec = engine.reconstruct_audio(music_like(5.5, 8000))
    assert rec.shape == (44000,)


def test_level_correction_is_exported_and_measures_what_the_chain_loses(vae_run, run, monkeypatch):
    from moodtune.data.tracks import load_tracks
    from moodtune.training.latent import clip_table, fit_output_level

    engine = load_engine(run[0])
    assert engine.level is not None and "level.weight" in engine.state_dict()
    tracks = load_tracks(vae_run[0], CodecLatentFeature(engine.codec), engine.styles, progress=False)
    table, _ = clip_table(tracks, engine.model.config.frames, engine.codec.frame_rate)
    before = fit_output_level(engine, tracks, table, clips=8)
    decode = engine.codec.decode
    monkeypatch.setattr(engine.codec, "decode", lambda z, n, mood=None: 0.5 * decode(z, n, mood))
    after = fit_output_level(engine, tracks, table, clips=8)
    moods = torch.tensor([[0.5, 0.5, 1.0], [-0.5, -0.5, 1.0], [0.0, 0.0, 0.0]])
    # a chain that gives back half the amplitude needs 6 dB more, whatever the mood
    assert torch.allclose(after.gain_db(moods) - before.gain_db(moods), torch.full((3,), 6.02), atol=0.05)
