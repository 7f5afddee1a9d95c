"""Shared fixtures: small music-like signals and datasets in their real on-disk layouts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import soundfile as sf


def music_like(seconds: float, sr: int, seed: int = 0, amplitude: float = 0.3) -> np.ndarray:
    """A sequence of random harmonic notes with decaying envelopes: mono float32 ``[T]``."""
    rng = np.random.default_rng(seed)
    n = int(seconds * sr)
    out = np.zeros(n, dtype=np.float64)
    note_len = int(0.25 * sr)
    t = np.arange(note_len) / sr
    env = np.exp(-4.0 * t)
    for start in range(0, n, note_len):
        f0 = 110.0 * 2 ** (rng.integers(0, 36) / 12)
        tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 5))
        seg = min(note_len, n - start)
        out[start : start + seg] += (tone * env)[:seg]
    out *= amplitude / max(np.max(np.abs(out)), 1e-9)
    return out.astype(np.float32)


def write_audio(path: Path, audio: np.ndarray, sr: int) -> Path:
    """Write audio in the format named by the suffix (wav, flac, ogg, mp3)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fmt = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3"}[path.suffix]
    sf.write(str(path), audio, sr, format=fmt)
    return path


def write_midi(path: Path, pitches: list[int], seconds_per_note: float = 0.25, velocity: int = 90) -> Path:
    """A one-instrument MIDI file playing ``pitches`` in sequence."""
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=0)
    for i, p in enumerate(pitches):
        inst.notes.append(pretty_midi.Note(velocity, p, i * seconds_per_note, (i + 1) * seconds_per_note))
    pm.instruments.append(inst)
    path.parent.mkdir(parents=True, exist_ok=True)
    pm.write(str(path))
    return path


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(0)
