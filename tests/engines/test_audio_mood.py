"""The asked arousal is audible in every audio engine: tiny models trained for seconds on builtin.

For the same seeds, high arousal (happy, angry) must come out clearly louder than low arousal (sad,
calm); the waveform engine must give different music for different moods. The built-in corpus renders
high arousal louder, so an engine whose sampling keeps the asked mood keeps that cue even when its
decoder is tiny. (Onset rate needs a decoder trained for minutes, not seconds: a debug model blurs
every onset alike. It is measured in docs/experiments/audio-mood-control.md.)
"""

import numpy as np
import pytest

from moodtune.data import prepare
from moodtune.engines.base import Request, load_engine
from moodtune.mood import Mood
from moodtune.training.latent import LatentTrainConfig
from moodtune.training.recipe import train
from moodtune.training.sequence import SequenceTrainConfig
from moodtune.training.spectrogram import SpectrogramTrainConfig
from moodtune.training.waveform import WaveformTrainConfig

HIGH, LOW = ("happy", "angry"), ("sad", "calm")
SEEDS = range(3)


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    out = tmp_path_factory.mktemp("audio_mood_data")
    prepare("builtin", None, out, clip_seconds=4.0, limit=8, workers=2, progress=False)
    return out


@pytest.fixture(scope="module")
def spectrogram(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("audio_mood_spec")
    cfg = SpectrogramTrainConfig(data=str(data), out=str(out), epochs=6, size="debug", latent_dim=8, batch_size=8)
    train(cfg, progress=False)
    return out


def _level(engine, mood: str, seconds: float = 6.0) -> float:
    """Median over seeds of the RMS level of ``seconds`` asked for ``mood``."""
    rms = []
    for seed in SEEDS:
        r = engine.generate(Request(mood=Mood.named(mood), seconds=seconds, seed=seed))
        rms.append(float(np.sqrt(np.mean(r.audio**2))))
    return float(np.median(rms))


def _assert_high_arousal_is_louder(engine):
    level = {m: _level(engine, m) for m in (*HIGH, *LOW)}
    assert min(level[m] for m in HIGH) > 1.5 * max(level[m] for m in LOW), level


def test_spectrogram_engine(spectrogram):
    _assert_high_arousal_is_louder(load_engine(spectrogram))


def test_sequence_engine(data, spectrogram, tmp_path_factory):
    out = tmp_path_factory.mktemp("audio_mood_seq")
    cfg = SequenceTrainConfig(data=str(data), vae=str(spectrogram), out=str(out), epochs=3, size="debug", steps=4)
    train(cfg, progress=False)
    _assert_high_arousal_is_louder(load_engine(out))


def test_latent_engine(data, spectrogram, tmp_path_factory):
    out = tmp_path_factory.mktemp("audio_mood_latent")
    cfg = LatentTrainConfig(
        data=str(data), out=str(out), vae=str(spectrogram), clip_seconds=2.0, latent_dim=4, size="debug", epochs=10
    )
    train(cfg, progress=False)
    _assert_high_arousal_is_louder(load_engine(out))


def test_waveform_engine_gives_each_mood_its_own_music(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("audio_mood_wave")
    cfg = WaveformTrainConfig(data=str(data), out=str(out), sr=4000, seconds=1.0, latent_dim=8, size="debug", epochs=3)
    train(cfg, progress=False)
    engine = load_engine(out)
    clips = {m: engine.generate(Request(mood=Mood.named(m), seconds=3.0, seed=0)).audio for m in (*HIGH, *LOW)}
    for a in HIGH + LOW:
        for b in HIGH + LOW:
            if a < b:
                assert np.abs(clips[a] - clips[b]).mean() > 0.05 * np.abs(clips[a]).mean(), (a, b)
    _assert_high_arousal_is_louder(engine)
