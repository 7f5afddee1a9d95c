"""Mood descriptors: a fixed-length vector per audio window that the mood regressor reads.

Each window (default 4 s) gives ``DESCRIPTOR_SIZE`` numbers, all computed from the waveform:

- timbre and register: mean and standard deviation of the scaled log-mel in 16 bands of 8 mels (32);
- loudness: mean, spread and 90th percentile of frame energy in dB / 80 (3);
- rhythm: spectral flux mean and spread, onsets per second (peaks of the flux), tempo in BPM / 200
  and pulse clarity (the height of the onset autocorrelation peak) (5);
- brightness: spectral centroid mean and spread (in mel bins / n_mels), spectral flatness (3);
- tonality: a 12-bin chroma from a 4096-point STFT; its best correlation with the Krumhansl-Kessler
  major and minor profiles over the 12 tonics, their difference, the (major - minor) third above the
  best tonic, and the chroma entropy (5);
- MFCC: means and spreads of 13 coefficients (26).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from moodtune.audio.features import LogMel, MelConfig
from moodtune.midi.analysis import MAJOR_PROFILE, MINOR_PROFILE

DESCRIPTOR_SIZE = 74
WINDOW_SECONDS = 4.0
HOP_SECONDS = 2.0
_BANDS = 16
_N_MFCC = 13
_CHROMA_FFT = 4096


def dct_matrix(n_in: int, n_out: int) -> np.ndarray:
    """Orthonormal DCT-II ``[n_out, n_in]``."""
    k = np.arange(n_out)[:, None]
    n = np.arange(n_in)[None, :]
    m = np.cos(np.pi / n_in * (n + 0.5) * k) * np.sqrt(2.0 / n_in)
    m[0] /= np.sqrt(2.0)
    return m


def _profile_bank() -> np.ndarray:
    """Z-scored key profiles ``[24, 12]``: 12 major tonics then 12 minor tonics."""
    rows = [np.roll(p, t) for p in (np.asarray(MAJOR_PROFILE), np.asarray(MINOR_PROFILE)) for t in range(12)]
    bank = np.stack(rows).astype(np.float64)
    return (bank - bank.mean(1, keepdims=True)) / bank.std(1, keepdims=True)


class MoodDescriptors:
    """Waveform windows -> descriptor vectors ``[W, DESCRIPTOR_SIZE]``."""

    name = "mood-descriptors"

    def __init__(self, sr: int = 22050, window_s: float = WINDOW_SECONDS, hop_s: float = HOP_SECONDS) -> None:
        self.sr = sr
        self.window_s = window_s
        self.hop_s = hop_s
        self.mel = LogMel(MelConfig(sr=sr))
        self.fps = sr / self.mel.config.hop_length
        self._dct = torch.from_numpy(dct_matrix(self.mel.config.n_mels, _N_MFCC).astype(np.float32))
        self._profiles = _profile_bank()
        freqs = np.fft.rfftfreq(_CHROMA_FFT, 1.0 / sr)
        band = (freqs >= 55.0) & (freqs <= 2000.0)
        pc = np.zeros((12, len(freqs)), dtype=np.float32)
        midi = np.round(12 * np.log2(np.maximum(freqs[band], 1e-6) / 440.0) + 69).astype(int)
        pc[midi % 12, np.flatnonzero(band)] = 1.0
        self._chroma_map = torch.from_numpy(pc)
        self._window = torch.hann_window(_CHROMA_FFT)

    def params(self) -> dict[str, Any]:
        """What determines the output (for the feature cache)."""
        return {"sr": self.sr, "window_s": self.window_s, "hop_s": self.hop_s, "size": DESCRIPTOR_SIZE, "v": 2}

    def window_starts(self, n_samples: int, hop_s: float | None = None) -> np.ndarray:
        """Start samples of the windows over ``n_samples`` (one window for audio shorter than a window)."""
        win = round(self.window_s * self.sr)
        hop = round((hop_s or self.hop_s) * self.sr)
        if n_samples <= win:
            return np.zeros(1, dtype=np.int64)
        starts = np.arange(0, n_samples - win + 1, hop)
        if starts[-1] + win < n_samples - hop // 2:
            starts = np.append(starts, n_samples - win)
        return starts

    def compute(self, audio: np.ndarray, hop_s: float | None = None) -> np.ndarray:
        """Mono ``[T]`` at ``sr`` -> ``[W, DESCRIPTOR_SIZE]`` float32 (zero-padded when shorter than a window)."""
        audio = np.asarray(audio, dtype=np.float32)
        win = round(self.window_s * self.sr)
        if len(audio) < win:
            audio = np.pad(audio, (0, win - len(audio)))
        starts = self.window_starts(len(audio), hop_s)
        windows = torch.from_numpy(np.stack([audio[s : s + win] for s in starts]))
        return self.describe(windows).numpy()

    def describe(self, windows: torch.Tensor) -> torch.Tensor:
        """``[W, samples]`` -> ``[W, DESCRIPTOR_SIZE]``."""
        with torch.no_grad():
            mel = self.mel(windows)  # [W, M, F] in [0, 1]
            parts = [*self._timbre(mel), *self._loudness(mel), self._rhythm(mel), *self._brightness(mel)]
            parts += [self._tonality(windows), *self._mfcc(mel)]
            out = torch.cat([p.reshape(len(windows), -1) for p in parts], dim=1)
        return torch.nan_to_num(out.float(), nan=0.0, posinf=0.0, neginf=0.0)

    @staticmethod
    def _timbre(mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        bands = mel.reshape(mel.shape[0], _BANDS, -1, mel.shape[-1])  # [W, 16, 8, F]
        per_band = bands.mean(2)
        return per_band.mean(-1), per_band.std(-1)

    def _loudness(self, mel: torch.Tensor) -> tuple[torch.Tensor, ...]:
        power = self.mel.scaled_db_to_power(mel).sum(1)  # [W, F]
        db = (10 * torch.log10(power.clamp_min(1e-8)) / 80.0).clamp(-2.0, 1.0)
        return db.mean(-1), db.std(-1), torch.quantile(db, 0.9, dim=-1)

    def _rhythm(self, mel: torch.Tensor) -> torch.Tensor:
        flux = (mel[..., 1:] - mel[..., :-1]).clamp_min(0).mean(1)  # [W, F-1]
        mean, std = flux.mean(-1), flux.std(-1)
        threshold = mean + 0.5 * std
        peaks = (flux[:, 1:-1] > flux[:, :-2]) & (flux[:, 1:-1] >= flux[:, 2:]) & (flux[:, 1:-1] > threshold[:, None])
        onset_rate = peaks.sum(-1).float() / (flux.shape[-1] / self.fps)
        centred = flux - mean[:, None]
        n = centred.shape[-1]
        spec = torch.fft.rfft(centred, n=2 * n)
        ac = torch.fft.irfft(spec.abs() ** 2, n=2 * n)[:, :n]
        ac = ac / ac[:, :1].clamp_min(1e-8)
        lo, hi = int(self.fps * 60 / 200), min(int(self.fps * 60 / 40), n - 1)
        strength, lag = ac[:, lo : hi + 1].max(-1)
        bpm = 60.0 * self.fps / (lag + lo).float()
        return torch.stack([mean * 10, std * 10, onset_rate / 10, bpm / 200, strength], dim=1)

    @staticmethod
    def _brightness(mel: torch.Tensor) -> tuple[torch.Tensor, ...]:
        weights = mel.clamp_min(1e-6)
        bins = torch.arange(mel.shape[1], dtype=mel.dtype)[None, :, None]
        centroid = (weights * bins).sum(1) / weights.sum(1) / mel.shape[1]  # [W, F]
        flat = torch.exp(torch.log(weights).mean(1)) / weights.mean(1)
        return centroid.mean(-1), centroid.std(-1), flat.mean(-1)

    def _tonality(self, windows: torch.Tensor) -> torch.Tensor:
        spec = torch.stft(
            windows, _CHROMA_FFT, _CHROMA_FFT // 2, window=self._window, center=True, return_complex=True
        ).abs()  # [W, bins, frames]
        chroma = (self._chroma_map @ spec).sum(-1).double()  # [W, 12]
        chroma = chroma / chroma.sum(-1, keepdim=True).clamp_min(1e-9)
        z = (chroma - chroma.mean(-1, keepdim=True)) / chroma.std(-1, unbiased=False, keepdim=True).clamp_min(1e-9)
        corr = z @ torch.from_numpy(self._profiles).T / 12.0  # [W, 24]
        major, minor = corr[:, :12].max(-1).values, corr[:, 12:].max(-1).values
        tonic = corr.argmax(-1) % 12
        idx = torch.arange(len(windows))
        third = chroma[idx, (tonic + 4) % 12] - chroma[idx, (tonic + 3) % 12]
        entropy = -(chroma * torch.log2(chroma.clamp_min(1e-12))).sum(-1) / np.log2(12)
        return torch.stack([major, minor, major - minor, third * 10, entropy], dim=1).float()

    def _mfcc(self, mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        mfcc = torch.einsum("km,wmf->wkf", self._dct, mel)  # [W, 13, F]
        return mfcc.mean(-1) / 4, mfcc.std(-1)
