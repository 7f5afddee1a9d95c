"""Emotional VAE over codec latent sequences ``[B, codec_dim, frames]``, conditioned on valence/arousal and style.

The input is standardised per codec channel with the training set's statistics (buffers ``mean`` and
``std``, set once before training). Encoder: a 1-D convolution to ``hidden`` channels, ``blocks``
group-normalised ResNet1D blocks, pooling to ``pool`` positions and a dense layer to the posterior.
Decoder: a dense layer to ``[hidden, pool]``, linear interpolation to ``frames``, the condition added
at every position, ResNet1D blocks and a 1x1 convolution back to ``codec_dim`` channels.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from moodtune.models.blocks import ResBlock1D, size_preset
from moodtune.models.conditioning import MoodStyleConditioner


@dataclass(frozen=True)
class LatentVAEConfig:
    """Sizes of the emotional latent VAE."""

    codec_dim: int
    frames: int
    latent_dim: int = 32
    hidden: int = 128
    blocks: int = 2
    pool: int = 8
    n_styles: int = 1
    mood_dim: int = 16
    style_dim: int = 8

    @classmethod
    def preset(cls, name: str, **fields: object) -> LatentVAEConfig:
        """``debug`` (tests), ``small`` (CPU demo) or ``base``; ``codec_dim`` and ``frames`` come in ``fields``."""
        presets = {
            "debug": {"hidden": 16, "blocks": 1, "mood_dim": 4, "style_dim": 2},
            "small": {"hidden": 128, "blocks": 2},
            "base": {"hidden": 256, "blocks": 4},
        }
        return cls(**{**size_preset(presets, name), **fields})  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        """Plain dict (stored in checkpoints)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> LatentVAEConfig:
        """Inverse of :meth:`to_dict`."""
        return cls(**d)  # type: ignore[arg-type]


class LatentVAE(nn.Module):
    """Conditional VAE over standardised codec latents; :meth:`decode` returns them in codec units."""

    def __init__(self, config: LatentVAEConfig) -> None:
        super().__init__()
        c = self.config = config
        self.register_buffer("mean", torch.zeros(c.codec_dim))
        self.register_buffer("std", torch.ones(c.codec_dim))
        self.conditioner = MoodStyleConditioner(c.n_styles, c.mood_dim, c.style_dim)
        self.pool = min(c.pool, c.frames)
        self.encoder = nn.Sequential(
            nn.Conv1d(c.codec_dim, c.hidden, 3, padding=1),
            *(ResBlock1D(c.hidden, "group", dilation=2**i) for i in range(c.blocks)),
            nn.LeakyReLU(0.2),
            nn.AdaptiveAvgPool1d(self.pool),
        )
        self.to_stats = nn.Linear(c.hidden * self.pool + self.conditioner.dim, 2 * c.latent_dim)
        self.from_latent = nn.Sequential(
            nn.Linear(c.latent_dim + self.conditioner.dim, c.hidden * self.pool), nn.LeakyReLU(0.2)
        )
        self.cond_bias = nn.Linear(self.conditioner.dim, c.hidden)
        self.decoder = nn.Sequential(
            *(ResBlock1D(c.hidden, "group", dilation=2**i) for i in range(c.blocks)),
            nn.LeakyReLU(0.2),
            nn.Conv1d(c.hidden, c.codec_dim, 1),
        )

    def set_normalisation(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Per-channel statistics ``[codec_dim]`` of the training latents."""
        self.mean.copy_(mean)
        self.std.copy_(std.clamp_min(1e-4))

    def standardise(self, x: torch.Tensor) -> torch.Tensor:
        """Codec latents ``[B, codec_dim, frames]`` -> standardised."""
        return (x - self.mean[:, None]) / self.std[:, None]

    def encode(self, x: torch.Tensor, mood: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Codec latents ``x [B, codec_dim, frames]`` -> ``(mu, logvar)`` each ``[B, latent_dim]``."""
        h = self.encoder(self.standardise(x)).flatten(1)
        mu, logvar = self.to_stats(torch.cat([h, self.conditioner(mood, style)], dim=-1)).chunk(2, dim=-1)
        return mu, logvar.clamp(-12.0, 8.0)

    def decode_standardised(self, z: torch.Tensor, mood: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """``z [B, latent_dim]`` -> standardised latents ``[B, codec_dim, frames]``."""
        c = self.config
        cond = self.conditioner(mood, style)
        h = self.from_latent(torch.cat([z, cond], dim=-1)).view(-1, c.hidden, self.pool)
        h = F.interpolate(h, size=c.frames, mode="linear", align_corners=False) + self.cond_bias(cond)[:, :, None]
        return self.decoder(h)

    def decode(self, z: torch.Tensor, mood: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """``z [B, latent_dim]`` -> codec latents ``[B, codec_dim, frames]``."""
        return self.decode_standardised(z, mood, style) * self.std[:, None] + self.mean[:, None]

    def forward(
        self, x: torch.Tensor, mood: torch.Tensor, style: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(standardised reconstruction [B, codec_dim, frames], mu, logvar)`` with a reparameterised sample."""
        mu, logvar = self.encode(x, mood, style)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode_standardised(z, mood, style), mu, logvar
