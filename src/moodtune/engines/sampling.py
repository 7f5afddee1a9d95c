"""Sampling helpers shared by the engines that generate window by window."""

from __future__ import annotations

import math

import numpy as np
import torch


def correlated_noise(n: int, dim: int, rho: float, generator: torch.Generator) -> torch.Tensor:
    """Standard-normal ``[n, dim]`` whose consecutive rows are AR(1)-correlated with coefficient ``rho``.

    Every row is marginally N(0, I), so neighbouring windows sound related instead of jumping.
    """
    eps = torch.randn(n, dim, generator=generator)
    noise = torch.empty_like(eps)
    noise[0] = eps[0]
    for i in range(1, n):
        noise[i] = rho * noise[i - 1] + math.sqrt(1 - rho**2) * eps[i]
    return noise


def window_layout(total: int, window: int, overlap: int, rate: float) -> tuple[int, np.ndarray]:
    """Windows of ``window`` units overlapping by ``overlap`` that cover ``total`` units.

    Returns ``(count, centre_seconds [count])`` where ``rate`` is units per second.
    """
    hop = window - overlap
    n = max(1, math.ceil((total - overlap) / hop))
    return n, (np.arange(n) * hop + window / 2) / rate


def conditions(va: np.ndarray, style: int, device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    """Known moods ``va [N, 2]`` and one style id -> ``(mood [N, 3], style [N])`` tensors."""
    mood = torch.tensor(np.concatenate([va, np.ones((len(va), 1))], axis=1), dtype=torch.float32, device=device)
    return mood, torch.full((len(va),), style, dtype=torch.long, device=device)


def label_tensors(
    n: int, valence: float | None, arousal: float | None, style: int, device: str = "cpu"
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(mood [n, 3], style [n])`` for one optional label: an unknown mood is ``[0, 0, 0]``."""
    known = valence is not None and arousal is not None
    row = [valence, arousal, 1.0] if known else [0.0, 0.0, 0.0]
    return torch.tensor([row] * n, dtype=torch.float32, device=device), torch.full(
        (n,), style, dtype=torch.long, device=device
    )
