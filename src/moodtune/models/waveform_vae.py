"""Conditional 1-D ResNet VAE on raw audio ``[B, 1, samples]`` (8000 Hz x 1 s = 8001 samples by default).

Encoder: four stride-2 Conv1D stages (64 -> 128 -> 128 -> 256 channels at full width), each followed by a
ResNet1D block with instance normalisation; the features are pooled to ``pool`` positions and a dense
layer gives the posterior. A dense layer maps the latent and the condition to ``[dec_channels[0], pool]``;
one of two decoders then makes audio, each stage modulated by the mood and style (FiLM, unless ``film``
is off):

* ``conv``: linear interpolation to ``ceil(samples / 16)`` positions, upsampling stages (nearest-neighbour
  doubling + convolution) 512 -> 256 -> 128 -> 64 with batch-normalised ResNet1D blocks, a last upsampling
  convolution to one channel and a crop to exactly ``samples``;
* ``additive``: residual stages at ``frame_rate`` frames per second predict the amplitude of every
  semitone of a sine oscillator bank, which the bank turns into audio. It learns in minutes on a CPU
  what the ``conv`` decoder needs hours for, and is the default.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from moodtune.models.additive import SemitoneBank
from moodtune.models.blocks import ResBlock1D, norm1d, size_preset
from moodtune.models.conditioning import FiLMStages, MoodStyleConditioner


def upsample(channels_in: int, channels_out: int, kernel: int = 5) -> nn.Module:
    """``[B, C_in, T]`` -> ``[B, C_out, 2T]``: nearest-neighbour doubling, then a convolution.

    A stride-2 transposed convolution would do the same job, but its uneven kernel overlap leaves a
    periodic pattern that an untrained decoder renders as steady tones; this has none.
    """
    return nn.Sequential(
        nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv1d(channels_in, channels_out, kernel, padding=kernel // 2)
    )


#: Decoders: ``conv`` upsamples to samples with convolutions; ``additive`` predicts frame-rate amplitudes
#: of a semitone oscillator bank (:class:`~moodtune.models.additive.SemitoneBank`).
DECODERS = ("conv", "additive")


@dataclass(frozen=True)
class WaveformVAEConfig:
    """Sizes of the waveform VAE. ``samples = sr * seconds + 1`` (8001 at 8 kHz x 1 s)."""

    sr: int = 8000
    seconds: float = 1.0
    latent_dim: int = 32
    enc_channels: tuple[int, ...] = (64, 128, 128, 256)
    dec_channels: tuple[int, ...] = (512, 256, 128, 64)
    kernel: int = 9
    pool: int = 16
    n_styles: int = 1
    mood_dim: int = 16
    style_dim: int = 8
    film: bool = True
    decoder: str = "additive"
    frame_rate: int = 100

    def __post_init__(self) -> None:
        if len(self.enc_channels) != len(self.dec_channels):
            raise ValueError("encoder and decoder need the same number of stages")
        if self.decoder not in DECODERS:
            raise ValueError(f"unknown decoder {self.decoder!r}; choose one of {', '.join(DECODERS)}")
        if self.sr < 1000 or self.seconds <= 0:
            raise ValueError(
                f"sample rate must be at least 1000 Hz and seconds positive, got {self.sr}, {self.seconds}"
            )

    @property
    def samples(self) -> int:
        """Input and output length in samples."""
        return round(self.sr * self.seconds) + 1

    @property
    def frames(self) -> int:
        """Amplitude frames of the additive decoder: ``frame_rate`` per second, both ends included."""
        return round(self.seconds * self.frame_rate) + 1

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
        return cls(**{**size_preset(presets, name), **overrides})  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        """Plain dict (stored in checkpoints)."""
        d = asdict(self)
        d["enc_channels"], d["dec_channels"] = list(self.enc_channels), list(self.dec_channels)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, object]) -> WaveformVAEConfig:
        """Inverse of :meth:`to_dict`."""
        return cls(**{**d, "enc_channels": tuple(d["enc_channels"]), "dec_channels": tuple(d["dec_channels"])})  # type: ignore[arg-type]


class ConvDecoder(nn.Module):
    """``h [B, C0, pool]``, condition ``[B, cond]`` -> audio ``[B, 1, samples]`` by upsampling stages."""

    def __init__(self, c: WaveformVAEConfig, cond: int) -> None:
        super().__init__()
        self.config = c
        stages = [
            nn.Sequential(upsample(a, b), norm1d("batch", b), nn.LeakyReLU(0.2), ResBlock1D(b, "batch"))
            for a, b in itertools.pairwise(c.dec_channels)
        ]
        self.stages = FiLMStages(stages, list(c.dec_channels[1:]), cond, c.film)
        self.head = upsample(c.dec_channels[-1], 1)
        self.out = nn.Conv1d(1, 1, c.kernel, padding=c.kernel // 2)

    def forward(self, h: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        c = self.config
        h = self.stages(F.interpolate(h, size=c.bottom, mode="linear", align_corners=False), cond)
        return torch.tanh(self.out(self.head(h)[..., : c.samples]))


class AdditiveDecoder(nn.Module):
    """``h [B, C0, pool]``, condition ``[B, cond]`` -> audio ``[B, 1, samples]`` through a semitone oscillator bank.

    Residual stages at ``frame_rate`` (width ``dec_channels[0]``, one per further entry of ``dec_channels``,
    dilations 1, 2, 4, ...) predict each pitch's amplitude per frame; the bank turns them into audio.
    """

    def __init__(self, c: WaveformVAEConfig, cond: int) -> None:
        super().__init__()
        self.config = c
        width = c.dec_channels[0]
        n = len(c.dec_channels) - 1
        stages = [ResBlock1D(width, "batch", dilation=2**i) for i in range(n)]
        self.stages = FiLMStages(stages, [width] * n, cond, c.film)
        self.bank = SemitoneBank(c.sr, c.samples)
        self.to_amplitudes = nn.Conv1d(width, self.bank.size, 3, padding=1)
        nn.init.constant_(self.to_amplitudes.bias, -4.0)  # start near silence: softplus(-4) * scale ~ 4e-4

    def forward(self, h: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        h = self.stages(F.interpolate(h, size=self.config.frames, mode="linear", align_corners=False), cond)
        amplitudes = F.softplus(self.to_amplitudes(h)) * AMPLITUDE_SCALE
        return torch.tanh(self.bank(amplitudes))


#: Amplitude of one oscillator at a pre-activation of about 1 (softplus(1) x this ~ 0.03).
AMPLITUDE_SCALE = 0.02


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
        decoder = AdditiveDecoder if c.decoder == "additive" else ConvDecoder
        self.decoder = decoder(c, self.conditioner.dim)

    def encode(self, x: torch.Tensor, mood: torch.Tensor, style: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``x [B, 1, samples]`` -> ``(mu, logvar)`` each ``[B, latent_dim]``."""
        h = self.encoder(x).flatten(1)
        mu, logvar = self.to_stats(torch.cat([h, self.conditioner(mood, style)], dim=-1)).chunk(2, dim=-1)
        return mu, logvar.clamp(-12.0, 8.0)

    def decode(self, z: torch.Tensor, mood: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """``z [B, latent_dim]`` -> audio ``[B, 1, samples]`` in (-1, 1)."""
        c = self.config
        cond = self.conditioner(mood, style)
        h = self.from_latent(torch.cat([z, cond], dim=-1)).view(-1, c.dec_channels[0], c.pool)
        return self.decoder(h, cond)

    def forward(
        self, x: torch.Tensor, mood: torch.Tensor, style: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(reconstruction [B, 1, samples], mu, logvar)`` with a reparameterised sample."""
        mu, logvar = self.encode(x, mood, style)
        z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        return self.decode(z, mood, style), mu, logvar
