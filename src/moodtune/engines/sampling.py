"""Sampling helpers shared by the engines that generate window by window."""

from __future__ import annotations

import math

import numpy as np
import torch

from moodtune.engines.base import Request
from moodtune.labels import style_index
from moodtune.models.latent_prior import ExemplarPrior, LatentPrior


def crossfade_slices(slices: torch.Tensor, overlap: int) -> torch.Tensor:
    """Overlap-add ``[N, C, F]`` slices with linear crossfades of ``overlap`` frames -> ``[C, total]``.

    C is the mel bands of log-mel slices, or 1 for audio windows. ``total = N * F - (N - 1) * overlap``;
    the weights sum to one everywhere.
    """
    n, n_mels, f = slices.shape
    hop = f - overlap
    total = n * f - (n - 1) * overlap
    out = torch.zeros(n_mels, total, dtype=slices.dtype, device=slices.device)
    norm = torch.zeros(total, dtype=slices.dtype, device=slices.device)
    window = torch.ones(f, dtype=slices.dtype, device=slices.device)
    if overlap > 0:
        ramp = (torch.arange(overlap, dtype=slices.dtype, device=slices.device) + 0.5) / overlap
        window[:overlap] = ramp
        window[-overlap:] = ramp.flip(0)
    for i in range(n):
        w = window.clone()
        if i == 0 and overlap > 0:
            w[:overlap] = 1.0
        if i == n - 1 and overlap > 0:
            w[-overlap:] = 1.0
        out[:, i * hop : i * hop + f] += slices[i] * w
        norm[i * hop : i * hop + f] += w
    return out / norm


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


def window_latents(
    request: Request,
    centres: np.ndarray,
    latent_dim: int,
    prior: LatentPrior | None,
    continuity: float,
    styles: list[str],
    device: str = "cpu",
    chain_reach: float | None = None,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """One latent per window centred at ``centres`` (seconds): ``(z [N, latent_dim], mood [N, 3], style [N])``.

    The mood is the request's at each centre; the noise is AR(1)-correlated (``continuity``) and seeded
    by the request; z comes from the mood prior when there is one, else it is the noise itself, both
    scaled by the request's temperature.

    With an :class:`ExemplarPrior` and ``chain_reach``, the windows are drawn one after another, each from
    the training items of its mood that lie near the previous window's latent (``reach`` of
    :meth:`ExemplarPrior.pick`): a piece keeps one sound instead of visiting a new item every window.
    """
    mood, style = conditions(request.mood_at(centres), style_index(styles, request.style), device)
    gen = torch.Generator().manual_seed(request.seed)
    noise = correlated_noise(len(centres), latent_dim, continuity, gen).to(device)
    if prior is None:
        return noise * request.temperature, mood, style
    if chain_reach is None or not isinstance(prior, ExemplarPrior):
        return prior.sample(mood, noise, request.temperature), mood, style
    z = [prior.sample(mood[:1], noise[:1], request.temperature)]
    for i in range(1, len(noise)):
        z.append(prior.sample(mood[i : i + 1], noise[i : i + 1], request.temperature, z[-1], chain_reach))
    return torch.cat(z), mood, style


def join_windows(windows: torch.Tensor, overlap: int, length: int) -> np.ndarray:
    """Audio windows ``[N, 1, window]`` crossfaded over ``overlap`` samples -> float32 ``[length]``
    (cut, or zero-padded at the end)."""
    audio = crossfade_slices(windows, overlap)[0, :length].cpu().numpy()
    return np.pad(audio, (0, max(0, length - len(audio)))).astype(np.float32)
