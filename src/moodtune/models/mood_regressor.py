"""Mood regressor: descriptor vector -> (valence, arousal), with a penultimate embedding."""

from __future__ import annotations

import torch
from torch import nn


class MoodRegressor(nn.Module):
    """Standardise ``[B, D]`` descriptors, an MLP to ``[B, 2]`` valence/arousal in (-1, 1).

    ``embed`` returns the penultimate layer ``[B, embed_dim]``: the mood embedding used for FAD
    and diversity.
    """

    def __init__(self, in_dim: int, hidden: int = 128, embed_dim: int = 32, dropout: float = 0.2) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(in_dim))
        self.register_buffer("std", torch.ones(in_dim))
        self.body = nn.Sequential(
            nn.Linear(in_dim, hidden),
            nn.GELU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, embed_dim),
            nn.GELU(),
        )
        self.head = nn.Linear(embed_dim, 2)

    def set_standardisation(self, features: torch.Tensor) -> None:
        """Fit the input standardisation on training descriptors ``[N, D]``."""
        self.mean.copy_(features.mean(0))
        self.std.copy_(features.std(0).clamp_min(1e-4))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, D]`` -> ``[B, embed_dim]``."""
        return self.body((x - self.mean) / self.std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, D]`` -> ``[B, 2]`` (valence, arousal)."""
        return torch.tanh(self.head(self.embed(x)))
