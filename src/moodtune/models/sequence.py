"""Autoregressive latent generator: the last latents + mood/style -> the next spectrogram-VAE latent."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from moodtune.models.blocks import size_preset
from moodtune.models.conditioning import MoodStyleConditioner


@dataclass(frozen=True)
class SequenceModelConfig:
    """Sizes of the latent sequence model and its discriminator."""

    latent_dim: int
    n_styles: int = 1
    hidden: int = 256
    layers: int = 2
    noise_dim: int = 8
    mood_dim: int = 16
    style_dim: int = 8
    disc_hidden: int = 128

    @classmethod
    def preset(cls, name: str, **overrides: object) -> SequenceModelConfig:
        """``debug`` (tests), ``small`` (the demo) or ``base``."""
        presets: dict[str, dict[str, object]] = {
            "debug": {"hidden": 32, "layers": 1, "noise_dim": 4, "mood_dim": 4, "style_dim": 2, "disc_hidden": 16},
            "small": {},
            "base": {"hidden": 512, "disc_hidden": 256},
        }
        return cls(**{**size_preset(presets, name), **overrides})  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class LatentSequenceModel(nn.Module):
    """Dense layers + LSTM over latents; predicts the next latent as the current one plus a learned step.

    ``step(z [B, D], mood [B, 3], style [B], noise [B, N], state)`` -> ``(next [B, D], state)``: one
    step with the LSTM state carried, so roll-outs of any length keep memory bounded.
    """

    def __init__(self, config: SequenceModelConfig) -> None:
        super().__init__()
        c = config
        self.config = c
        self.conditioner = MoodStyleConditioner(c.n_styles, c.mood_dim, c.style_dim)
        self.inp = nn.Sequential(nn.Linear(c.latent_dim + self.conditioner.dim + c.noise_dim, c.hidden), nn.GELU())
        self.lstm = nn.LSTM(c.hidden, c.hidden, num_layers=c.layers, batch_first=True)
        self.out = nn.Sequential(nn.Linear(c.hidden, c.hidden), nn.GELU(), nn.Linear(c.hidden, c.latent_dim))

    def step(
        self,
        z: torch.Tensor,
        mood: torch.Tensor,
        style: torch.Tensor,
        noise: torch.Tensor,
        state: tuple[torch.Tensor, torch.Tensor] | None = None,
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        x = self.inp(torch.cat([z, self.conditioner(mood, style), noise], dim=-1))
        h, state = self.lstm(x[:, None], state)
        return z + self.out(h[:, 0]), state

    def rollout(
        self,
        real: torch.Tensor,
        mood: torch.Tensor,
        style: torch.Tensor,
        noise: torch.Tensor,
        sample_prob: float = 0.0,
        generator: torch.Generator | None = None,
    ) -> torch.Tensor:
        """Predict steps 1..T-1 of ``real [B, T, D]`` with teacher forcing; with probability ``sample_prob``
        per step the model's own previous prediction is fed instead (scheduled sampling).

        ``mood [B, T, 3]`` (the condition of each step's *target*), ``noise [B, T, N]``. Returns ``[B, T-1, D]``.
        """
        preds, state, prev = [], None, real[:, 0]
        for t in range(real.shape[1] - 1):
            nxt, state = self.step(prev, mood[:, t + 1], style, noise[:, t], state)
            preds.append(nxt)
            if sample_prob > 0:
                use_own = torch.rand(real.shape[0], 1, generator=generator).to(real.device) < sample_prob
                prev = torch.where(use_own, nxt.detach(), real[:, t + 1])
            else:
                prev = real[:, t + 1]
        return torch.stack(preds, dim=1)


class SequenceDiscriminator(nn.Module):
    """Scores latent sequences ``[B, T, D]`` with their moods ``[B, T, 3]`` and style ``[B]``: real vs generated.

    Sees step-to-step differences as well as the latents, so it judges motion, not only positions.
    """

    def __init__(self, config: SequenceModelConfig) -> None:
        super().__init__()
        c = config
        self.conditioner = MoodStyleConditioner(c.n_styles, c.mood_dim, c.style_dim)
        self.lstm = nn.LSTM(2 * c.latent_dim + self.conditioner.dim, c.disc_hidden, batch_first=True)
        self.head = nn.Linear(2 * c.disc_hidden, 1)

    def forward(self, seq: torch.Tensor, mood: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """-> logits ``[B]``."""
        b, t, _ = seq.shape
        diff = torch.cat([torch.zeros_like(seq[:, :1]), seq[:, 1:] - seq[:, :-1]], dim=1)
        cond = self.conditioner(mood.reshape(b * t, 3), style.repeat_interleave(t)).reshape(b, t, -1)
        h, _ = self.lstm(torch.cat([seq, diff, cond], dim=-1))
        return self.head(torch.cat([h.mean(1), h[:, -1]], dim=-1))[:, 0]
