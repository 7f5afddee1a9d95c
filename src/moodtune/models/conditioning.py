"""Mood and style conditioning shared by the model families."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

#: Index of the "unknown" style in every style vocabulary.
UNKNOWN_STYLE = 0


def mood_vector(valence: float | None, arousal: float | None) -> list[float]:
    """``[valence, arousal, known]``; unknown moods become ``[0, 0, 0]``."""
    if valence is None or arousal is None or math.isnan(valence) or math.isnan(arousal):
        return [0.0, 0.0, 0.0]
    return [float(valence), float(arousal), 1.0]


def request_labels(mood: Sequence[float], style: int, styles: list[str]) -> dict[str, Any]:
    """The inverse of :func:`mood_vector` plus a style id: ``valence``, ``arousal`` (None when unknown) and
    ``style`` (a name, None for the unknown style), as engines' ``reconstruct_audio`` takes them."""
    known = bool(mood[2])
    return {
        "valence": float(mood[0]) if known else None,
        "arousal": float(mood[1]) if known else None,
        "style": styles[style] if style != UNKNOWN_STYLE else None,
    }


class MoodStyleConditioner(nn.Module):
    """``mood [B, 3]`` (valence, arousal, known) and ``style [B]`` ids -> ``[B, mood_dim + style_dim]``."""

    def __init__(self, n_styles: int, mood_dim: int = 16, style_dim: int = 8) -> None:
        super().__init__()
        self.mood = nn.Sequential(nn.Linear(3, mood_dim), nn.SiLU(), nn.Linear(mood_dim, mood_dim))
        self.style = nn.Embedding(max(n_styles, 1), style_dim)
        self.dim = mood_dim + style_dim

    def forward(self, mood: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.mood(mood), self.style(style)], dim=-1)
