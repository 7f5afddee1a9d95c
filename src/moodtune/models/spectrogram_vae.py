"""Conditional convolutional VAE over log-mel slices ``[B, 1, n_mels, frames]`` (128 x 128 by default)."""

from __future__ import annotations

import itertools
from dataclasses import asdict, dataclass

import torch
from torch import nn

from moodtune.models.blocks import size_preset
from moodtune.models.conditioning import MoodStyleConditioner


@dataclass(frozen=True)
class SpectrogramVAEConfig:
    """Sizes of the spectrogram VAE. Each conv stage halves both axes."""

    n_mels: int = 128
    frames: int = 128
    latent_dim: int = 100
    channels: tuple[int, ...] = (32, 64, 128, 256)
    n_styles: int = 1
    mood_dim: int = 16
    style_dim: int = 8

    @classmethod
    def preset(cls, name: str, **overrides: object) -> SpectrogramVAEConfig:
        """``debug`` (tests, seconds on CPU), ``small`` (the demo) or ``base``."""
        presets = {
            "debug": {"channels": (4, 8), "latent_dim": 8, "mood_dim": 4, "style_dim": 2},
            "small": {"channels": (16, 32, 64, 128)},
            "base": {},
        }
        return cls(**{**size_preset(presets, name), **overrides})  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        """Plain dict (stored in checkpoints)."""
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> SpectrogramVAEConfig:
        """Inverse of :meth:`to_dict`."""
        return cls(**{**d, "channels": tuple(d["channels"])})  # type: ignore[arg-type]


def _norm(ch: int) -> nn.GroupNorm:
    return nn.GroupNorm(min(8, ch), ch)


class DownBlock(nn.Module):
    """Conv 4x4 stride 2 -> GroupNorm -> LeakyReLU: ``[B, C_in, H, W]`` -> ``[B, C_out, H/2, W/2]``."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(c_in, c_out, 4, 2, 1), _norm(c_out), nn.LeakyReLU(0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class UpBlock(nn.Module):
    """Transposed conv 4x4 stride 2 -> GroupNorm -> LeakyReLU: doubles both axes."""

    def __init__(self, c_in: int, c_out: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.ConvTranspose2d(c_in, c_out, 4, 2, 1), _norm(c_out), nn.LeakyReLU(0.2))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class TimeSmoothing(nn.Module):
    """Fixed binomial low-pass ``[1, 2, 1] / 4`` along frames: ``[B, 1, n_mels, frames]`` -> same shape.

    Stride-2 transposed convolutions leave a frame-to-frame ripple in the decoded log-mel; vocoded, each
    ripple is a small attack, so quiet, slow music came back with more detected onsets than fast music
    (measured in docs/experiments/audio-mood-control.md). The kernel's zero at the frame rate's Nyquist
    frequency removes the ripple and keeps the slower envelope of real notes; edges are padded by repetition.
    """

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("kernel", torch.tensor([[[[0.25, 0.5, 0.25]]]]), persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.conv2d(nn.functional.pad(x, (1, 1, 0, 0), mode="replicate"), self.kernel)


class SpectrogramVAE(nn.Module):
    """Conditional VAE: mood (valence, arousal, known) and style condition both encoder and decoder."""

    def __init__(self, config: SpectrogramVAEConfig) -> None:
        super().__init__()
        c = config
        self.config = c
        factor = 2 ** len(c.channels)
        if c.n_mels % factor or c.frames % factor:
            raise ValueError(f"n_mels and frames must be divisible by {factor}")
        self.grid = (c.channels[-1], c.n_mels // factor, c.frames // factor)
        flat = c.channels[-1] * self.grid[1] * self.grid[2]
        self.conditioner = MoodStyleConditioner(c.n_styles, c.mood_dim, c.style_dim)
        chans = (1, *c.channels)
        self.encoder = nn.Sequential(*(DownBlock(a, b) for a, b in itertools.pairwise(chans)))
        self.to_stats = nn.Linear(flat + self.conditioner.dim, 2 * c.latent_dim)
        self.from_latent = nn.Sequential(nn.Linear(c.latent_dim + self.conditioner.dim, flat), nn.LeakyReLU(0.2))
        rev = chans[::-1]
        self.decoder = nn.Sequential(*(UpBlock(a, b) for a, b in itertools.pairwise(rev[:-1])))
        self.head = nn.ConvTranspose2d(rev[-2], 1, 4, 2, 1)
        self.smooth = TimeSmoothing()

    def encode(self, x: torch.Tensor, mood: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x [B, 1, n_mels, frames]`` -> ``(mu, logvar)`` each ``[B, latent_dim]``."""
        h = self.encoder(x).flatten(1)
        stats = self.to_stats(torch.cat([h, self.conditioner(mood, style)], dim=-1))
        mu, logvar = stats.chunk(2, dim=-1)
        return mu, logvar.clamp(-12.0, 8.0)

    def decode(self, z: torch.Tensor, mood: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """``z [B, latent_dim]`` -> scaled log-mel ``[B, 1, n_mels, frames]`` in (0, 1)."""
        h = self.from_latent(torch.cat([z, self.conditioner(mood, style)], dim=-1))
        return self.smooth(torch.sigmoid(self.head(self.decoder(h.view(-1, *self.grid)))))

    def forward(
        self, x: torch.Tensor, mood: torch.Tensor, style: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Returns ``(reconstruction [B, 1, n_mels, frames], mu, logvar)`` with a reparameterised sample."""
        mu, logvar = self.encode(x, mood, style)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z, mood, style), mu, logvar
