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
