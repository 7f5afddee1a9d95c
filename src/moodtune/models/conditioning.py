"""Mood and style conditioning shared by the model families."""

from __future__ import annotations

import torch
from torch import nn


class MoodStyleConditioner(nn.Module):
    """``mood [B, 3]`` (valence, arousal, known) and ``style [B]`` ids -> ``[B, mood_dim + style_dim]``."""

    def __init__(self, n_styles: int, mood_dim: int = 16, style_dim: int = 8) -> None:
        super().__init__()
        self.mood = nn.Sequential(nn.Linear(3, mood_dim), nn.SiLU(), nn.Linear(mood_dim, mood_dim))
        self.style = nn.Embedding(max(n_styles, 1), style_dim)
        self.dim = mood_dim + style_dim

    def forward(self, mood: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.mood(mood), self.style(style)], dim=-1)


class FiLM(nn.Module):
    """Feature-wise modulation by a condition: ``h [B, C, T]``, ``c [B, cond_dim]`` -> ``h * (1 + g) + b``.

    The projection starts at zero, so a freshly built FiLM layer passes ``h`` through unchanged.
    """

    def __init__(self, cond_dim: int, channels: int) -> None:
        super().__init__()
        self.proj = nn.Linear(cond_dim, 2 * channels)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        gain, bias = self.proj(c).unsqueeze(-1).chunk(2, dim=1)
        return h * (1 + gain) + bias


class FiLMStages(nn.Module):
    """Stages run in turn, each followed by a :class:`FiLM` of its output width (none when ``film`` is off):
    ``h [B, C, T]``, ``c [B, cond_dim]`` -> the last stage's output."""

    def __init__(self, stages: list[nn.Module], widths: list[int], cond_dim: int, film: bool = True) -> None:
        super().__init__()
        self.stages = nn.ModuleList(stages)
        self.film = nn.ModuleList(FiLM(cond_dim, w) for w in widths) if film else None

    def forward(self, h: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        for i, stage in enumerate(self.stages):
            h = stage(h)
            if self.film is not None:
                h = self.film[i](h, c)
        return h
