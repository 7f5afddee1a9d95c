"""A bank of sine oscillators at equal-tempered pitches: frame-rate amplitudes -> audio.

Each oscillator sounds one semitone (from ``low_midi`` up to the highest pitch below ``0.45 * sr``) with
a fixed starting phase; the decoder that drives it only predicts how loud each pitch is at each frame,
so a note, a chord, a crescendo or an onset is a pattern in a small ``[K, frames]`` map rather than
thousands of samples. Harmonics of a note land on (or within a few cents of) higher semitones, so
timbre is amplitudes too.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


def semitone_frequencies(sr: int, low_midi: int = 33, ceiling: float = 0.45) -> torch.Tensor:
    """Frequencies in Hz ``[K]`` of MIDI pitches ``low_midi, low_midi + 1, ...`` below ``ceiling * sr``."""
    top = 69 + 12 * math.log2(ceiling * sr / 440.0)
    if top < low_midi:
        raise ValueError(f"a {sr} Hz sample rate leaves no room above MIDI pitch {low_midi}")
    midi = torch.arange(low_midi, math.floor(top) + 1, dtype=torch.float64)
    return 440.0 * 2.0 ** ((midi - 69) / 12)


class SemitoneBank(nn.Module):
    """``amplitudes [B, K, frames]`` -> ``audio [B, 1, samples]`` (amplitudes interpolated linearly per sample)."""

    def __init__(self, sr: int, samples: int, low_midi: int = 33, seed: int = 0) -> None:
        super().__init__()
        freqs = semitone_frequencies(sr, low_midi)
        phase = torch.rand(len(freqs), 1, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
        t = torch.arange(samples, dtype=torch.float64) / sr
        waves = torch.sin(2 * math.pi * (freqs[:, None] * t[None, :] + phase)).float()
        self.register_buffer("waves", waves, persistent=False)
        self.samples = samples

    @property
    def size(self) -> int:
        """Number of oscillators ``K``."""
        return self.waves.shape[0]

    def forward(self, amplitudes: torch.Tensor) -> torch.Tensor:
        envelopes = F.interpolate(amplitudes, size=self.samples, mode="linear", align_corners=True)
        return (envelopes * self.waves).sum(dim=1, keepdim=True)
