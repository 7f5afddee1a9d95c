"""Conditional 1-D ResNet VAE on raw audio ``[B, 1, samples]`` (3000 Hz x 30 s = 90 001 samples by default).

Encoder: four stride-2 Conv1D stages (64 -> 128 -> 128 -> 256 channels at full width), each followed by a
ResNet1D block with instance normalisation; the features are pooled to ``pool`` positions and a dense
layer gives the posterior. Decoder: a dense layer to ``[512, pool]``, linear interpolation to
``ceil(samples / 16)`` positions, transposed Conv1D stages 512 -> 256 -> 128 -> 64 with batch-normalised
ResNet1D blocks, a last transposed convolution to one channel and a crop to exactly ``samples``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from moodtune.models.blocks import ResBlock1D, norm1d
from moodtune.models.conditioning import MoodStyleConditioner


@dataclass(frozen=True)
class WaveformVAEConfig:
    """Sizes of the waveform VAE. ``samples = sr * seconds + 1`` (90 001 at 3 kHz x 30 s)."""

    sr: int = 3000
    seconds: float = 30.0
    latent_dim: int = 2
    enc_channels: tuple[int, ...] = (64, 128, 128, 256)
    dec_channels: tuple[int, ...] = (512, 256, 128, 64)
    kernel: int = 9
    pool: int = 16
    n_styles: int = 1
    mood_dim: int = 16
    style_dim: int = 8

    def __post_init__(self) -> None:
        if len(self.enc_channels) != len(self.dec_channels):
            raise ValueError("encoder and decoder need the same number of stages")
        if self.sr < 1000 or self.seconds <= 0:
            raise ValueError(
                f"sample rate must be at least 1000 Hz and seconds positive, got {self.sr}, {self.seconds}"
            )

    @property
    def samples(self) -> int:
        """Input and output length in samples."""
        return round(self.sr * self.seconds) + 1

    @property
    def bottom(self) -> int:
        """Positions at the decoder's first stage: ``ceil(samples / 2**stages)``."""
        return math.ceil(self.samples / 2 ** len(self.enc_channels))

    @classmethod
    def preset(cls, name: str, **overrides: object) -> WaveformVAEConfig:
        """``debug`` (tests), ``small`` (CPU demo: a quarter of the widths) or ``base`` (the full widths)."""
        presets = {
            "debug": {"enc_channels": (4, 8, 8, 8), "dec_channels": (16, 8, 8, 4), "mood_dim": 4, "style_dim": 2},
            "small": {"enc_channels": (16, 32, 32, 64), "dec_channels": (128, 64, 32, 16)},
            "base": {},
        }
        if name not in presets:
            raise ValueError(f"unknown size {name!r}; choose one of {', '.join(presets)}")
        return cls(**{**presets[name], **overrides})  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        """Plain dict (stored in checkpoints)."""
        d = asdict(self)
        d["enc_channels"], d["dec_channels"] = list(self.enc_channels), list(self.dec_channels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> WaveformVAEConfig:
        """Inverse of :meth:`to_dict`."""
        return cls(**{**d, "enc_channels": tuple(d["enc_channels"]), "dec_channels": tuple(d["dec_channels"])})  # type: ignore[arg-type]


class WaveformVAE(nn.Module):
    """Conditional VAE: mood ``[B, 3]`` (valence, arousal, known) and style ``[B]`` condition both halves."""

    def __init__(self, config: WaveformVAEConfig) -> None:
        super().__init__()
        c = self.config = config
        k = c.kernel
        self.conditioner = MoodStyleConditioner(c.n_styles, c.mood_dim, c.style_dim)
        enc: list[nn.Module] = []
        for a, b in itertools.pairwise((1, *c.enc_channels)):
            enc += [nn.Conv1d(a, b, k, stride=2, padding=k // 2), ResBlock1D(b, "instance")]
        self.encoder = nn.Sequential(*enc, nn.LeakyReLU(0.2), nn.AdaptiveAvgPool1d(c.pool))
        self.to_stats = nn.Linear(c.enc_channels[-1] * c.pool + self.conditioner.dim, 2 * c.latent_dim)
        self.from_latent = nn.Sequential(
            nn.Linear(c.latent_dim + self.conditioner.dim, c.dec_channels[0] * c.pool), nn.LeakyReLU(0.2)
        )
        dec: list[nn.Module] = []
        for a, b in itertools.pairwise(c.dec_channels):
            dec += [
                nn.ConvTranspose1d(a, b, 4, stride=2, padding=1),
                norm1d("batch", b),
                nn.LeakyReLU(0.2),
                ResBlock1D(b, "batch"),
            ]
        self.decoder = nn.Sequential(*dec)
        self.head = nn.ConvTranspose1d(c.dec_channels[-1], 1, 4, stride=2, padding=1)
        self.out = nn.Conv1d(1, 1, k, padding=k // 2)

    def encode(self, x: torch.Tensor, mood: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x [B, 1, samples]`` -> ``(mu, logvar)`` each ``[B, latent_dim]``."""
        h = self.encoder(x).flatten(1)
        mu, logvar = self.to_stats(torch.cat([h, self.conditioner(mood, style)], dim=-1)).chunk(2, dim=-1)
        return mu, logvar.clamp(-12.0, 8.0)

    def decode(self, z: torch.Tensor, mood: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """``z [B, latent_dim]`` -> audio ``[B, 1, samples]`` in (-1, 1)."""
        c = self.config
        h = self.from_latent(torch.cat([z, self.conditioner(mood, style)], dim=-1)).view(-1, c.dec_channels[0], c.pool)
        h = F.interpolate(h, size=c.bottom, mode="linear", align_corners=False)
        y = self.head(self.decoder(h))[..., : c.samples]
        return torch.tanh(self.out(y))

    def forward(
        self, x: torch.Tensor, mood: torch.Tensor, style: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(reconstruction [B, 1, samples], mu, logvar)`` with a reparameterised sample."""
        mu, logvar = self.encode(x, mood, style)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z, mood, style), mu, logvar
