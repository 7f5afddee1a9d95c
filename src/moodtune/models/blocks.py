"""Pieces the model files share: 1-D building blocks of the waveform VAE and the latent (codec) VAE, and the
lookup of a config's size presets."""

from __future__ import annotations

import torch
from torch import nn


def norm1d(kind: str, channels: int) -> nn.Module:
    """``instance`` (per example, affine), ``batch`` or ``group`` normalisation over ``[B, C, T]``."""
    if kind == "instance":
        return nn.InstanceNorm1d(channels, affine=True)
    if kind == "batch":
        return nn.BatchNorm1d(channels)
    if kind == "group":
        return nn.GroupNorm(min(8, channels), channels)
    raise ValueError(f"unknown normalisation {kind!r}")


class ResBlock1D(nn.Module):
    """Two 1-D convolutions (norm -> LeakyReLU before each) and a skip: ``[B, C, T]`` -> ``[B, C, T]``.

    The second convolution is dilated (``dilation``), which widens the receptive field cheaply.
    """

    def __init__(self, channels: int, norm: str = "instance", kernel: int = 3, dilation: int = 3) -> None:
        super().__init__()
        self.net = nn.Sequential(
            norm1d(norm, channels),
            nn.LeakyReLU(0.2),
            nn.Conv1d(channels, channels, kernel, padding=kernel // 2),
            norm1d(norm, channels),
            nn.LeakyReLU(0.2),
            nn.Conv1d(channels, channels, kernel, padding=dilation * (kernel // 2), dilation=dilation),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


def size_preset(presets: dict[str, dict[str, object]], name: str) -> dict[str, object]:
    """The fields of size ``name`` from a config's ``presets`` (ValueError naming the sizes there are)."""
    if name not in presets:
        raise ValueError(f"unknown size {name!r}; choose one of {', '.join(presets)}")
    return presets[name]
