"""Reconstruction distances between spectrograms."""

from __future__ import annotations

import numpy as np


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


def multi_resolution_stft_distance(
    reference: np.ndarray, estimate: np.ndarray, fft_sizes: tuple[int, ...] = (512, 1024, 2048)
) -> dict[str, float]:
    """Spectral convergence and log-magnitude L1 distance averaged over STFT resolutions (hop = n_fft / 4).

    ``reference`` and ``estimate`` are waveforms ``[T]`` (the shorter length is used). Phase is ignored,
    as for a vocoded reconstruction only magnitudes can match.
    """
    import torch

    n = min(len(reference), len(estimate))
    ref = torch.from_numpy(np.asarray(reference[:n], np.float32))
    est = torch.from_numpy(np.asarray(estimate[:n], np.float32))
    sc, logmag = [], []
    for n_fft in fft_sizes:
        window = torch.hann_window(n_fft)
        mags = [torch.stft(x, n_fft, n_fft // 4, window=window, return_complex=True).abs() for x in (ref, est)]
        sc.append(float(torch.linalg.norm(mags[0] - mags[1]) / torch.linalg.norm(mags[0]).clamp_min(1e-9)))
        logmag.append(float((torch.log(mags[0] + 1e-5) - torch.log(mags[1] + 1e-5)).abs().mean()))
    return {"spectral_convergence": float(np.mean(sc)), "log_magnitude_l1": float(np.mean(logmag))}
