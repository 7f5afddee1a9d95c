"""Distances between audio signals and spectrograms: one multi-resolution STFT (a training loss and a
metric), the log-spectral distance, and the held-out reconstruction scores every engine reports."""

from __future__ import annotations

import math

import numpy as np
import torch

from moodtune.audio.features import LogMel, MelConfig

#: Window lengths of the multi-resolution STFT, in seconds (about 16, 64 and 256 ms).
STFT_WINDOW_SECONDS = (0.016, 0.064, 0.256)


def stft_fft_sizes(sr: int) -> tuple[int, ...]:
    """FFT sizes near 16, 64 and 256 ms at ``sr`` (powers of two); at 22 050 Hz: 256, 1024 and 4096."""
    return tuple(2 ** round(math.log2(sr * s)) for s in STFT_WINDOW_SECONDS)


def multi_resolution_stft(
    reference: torch.Tensor, estimate: torch.Tensor, fft_sizes: tuple[int, ...]
) -> tuple[torch.Tensor, torch.Tensor]:
    """Spectral convergence ``[B]`` and log-magnitude L1 (scalar), each averaged over STFT resolutions.

    ``reference`` and ``estimate`` are waveforms ``[B, ..., T]`` (flattened to ``[B, T]``); hop = n_fft / 4.
    Phase is ignored: a vocoded or codec reconstruction can only match magnitudes. Differentiable, so the
    waveform engine trains with it.
    """
    a, b = reference.flatten(1), estimate.flatten(1)
    sc = a.new_zeros(a.shape[0])
    logmag = a.new_zeros(())
    for n_fft in fft_sizes:
        window = torch.hann_window(n_fft, device=a.device)
        ma, mb = (torch.stft(s, n_fft, n_fft // 4, window=window, return_complex=True).abs() for s in (a, b))
        sc = sc + torch.linalg.norm(ma - mb, dim=(1, 2)) / torch.linalg.norm(ma, dim=(1, 2)).clamp_min(1e-7)
        logmag = logmag + (torch.log(ma + 1e-5) - torch.log(mb + 1e-5)).abs().mean()
    return sc / len(fft_sizes), logmag / len(fft_sizes)


def multi_resolution_stft_loss(
    reference: torch.Tensor, estimate: torch.Tensor, fft_sizes: tuple[int, ...]
) -> torch.Tensor:
    """Spectral convergence + log-magnitude L1 of ``[B, 1, T]`` pairs -> scalar (the waveform engine's loss term)."""
    sc, logmag = multi_resolution_stft(reference, estimate, fft_sizes)
    return sc.mean() + logmag


def log_spectral_distance(reference_db: np.ndarray, estimate_db: np.ndarray) -> float:
    """Log-spectral distance in dB: per frame RMS over bins of the dB difference, averaged over frames.

    Both inputs are ``[bins, frames]`` in dB (e.g. log-mel before scaling).
    """
    if reference_db.shape != estimate_db.shape:
        raise ValueError(f"shapes differ: {reference_db.shape} vs {estimate_db.shape}")
    return float(np.mean(np.sqrt(np.mean((reference_db - estimate_db) ** 2, axis=0))))


def scaled_to_db(scaled: np.ndarray, top_db: float = 80.0) -> np.ndarray:
    """Scaled log-mel in [0, 1] -> dB in [-top_db, 0]."""
    return np.asarray(scaled, dtype=np.float64) * top_db - top_db


class ReconstructionScorer:
    """Scores ``(original, reconstruction)`` waveform pairs ``[T]`` at one sample rate.

    ``lsd_db``: log-spectral distance of their log-mels; ``mrstft_sc`` and ``mrstft_logmag``: the
    multi-resolution STFT distance. A shorter reconstruction is zero-padded, a longer one cut.
    """

    def __init__(self, sr: int) -> None:
        self.sr = sr
        self.logmel = LogMel(MelConfig(sr=sr))
        self.fft_sizes = stft_fft_sizes(sr)

    def __call__(self, original: np.ndarray, reconstruction: np.ndarray) -> dict[str, float]:
        y = np.asarray(reconstruction, np.float32)[: len(original)]
        y = np.pad(y, (0, len(original) - len(y)))
        x = np.asarray(original, np.float32)
        lsd = log_spectral_distance(scaled_to_db(self.logmel(x).numpy()), scaled_to_db(self.logmel(y).numpy()))
        with torch.no_grad():
            sc, logmag = multi_resolution_stft(torch.from_numpy(x)[None], torch.from_numpy(y)[None], self.fft_sizes)
        return {"lsd_db": lsd, "mrstft_sc": float(sc[0]), "mrstft_logmag": float(logmag)}
