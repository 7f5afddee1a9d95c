"""A mood-dependent level correction for a decoder that renders loud music too quietly.

A VAE decoder trained for minutes blurs the peaks of a log-mel slice, and the blur costs most where the
music is loud: on the built-in corpus a small spectrogram model gives back loud, high-arousal clips
several dB quieter than they went in, and quiet ones almost unchanged. Loudness is itself a mood cue, so
this bias pulls every output towards low arousal. :class:`LevelCorrection` measures it after training
(original against reconstruction, on the training slices) as a linear function of the mood, and the
engine adds it back, in dB, to what it decodes.
"""

from __future__ import annotations

import torch
from torch import nn

from moodtune.models.latent_prior import mood_design

#: Key prefix of the correction's buffers inside an engine's exported weights.
LEVEL_PREFIX = "level."


class LevelCorrection(nn.Module):
    """``gain_db = design(mood) @ weight``, design ``[v*known, a*known, known, 1-known]``; buffer ``weight [4]``."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("weight", torch.zeros(4))

    @classmethod
    def fit(cls, gain_db: torch.Tensor, mood: torch.Tensor, ridge: float = 1e-3) -> LevelCorrection:
        """Least squares of the level lost per item, ``gain_db [N]`` (original minus reconstruction), on mood.
        Without unlabelled items, the correction for an unknown mood is the mean over all items."""
        x = mood_design(mood.double())
        gram = x.T @ x + ridge * torch.eye(x.shape[1], dtype=torch.float64)
        weight = torch.linalg.solve(gram, x.T @ gain_db.double())
        if not bool((mood[:, 2] < 0.5).any()):  # no unlabelled items: an unknown mood gets the mean loss
            weight[3] = gain_db.double().mean()
        out = cls()
        out.weight.copy_(weight.float())
        return out

    def gain_db(self, mood: torch.Tensor) -> torch.Tensor:
        """The correction in dB ``[B]`` for ``mood [B, 3]``."""
        return mood_design(mood) @ self.weight

    def amplitude(self, mood: torch.Tensor) -> torch.Tensor:
        """The correction as a factor on the waveform ``[B]`` for ``mood [B, 3]``."""
        return torch.pow(10.0, self.gain_db(mood) / 20.0)


def level_state(level: LevelCorrection | None) -> dict[str, torch.Tensor]:
    """The correction's buffers under :data:`LEVEL_PREFIX` (empty without one)."""
    return {} if level is None else {f"{LEVEL_PREFIX}{k}": v for k, v in level.state_dict().items()}


def level_from_state(state: dict[str, torch.Tensor]) -> LevelCorrection | None:
    """The correction stored by :func:`level_state`, or None (weights exported before it existed)."""
    if f"{LEVEL_PREFIX}weight" not in state:
        return None
    level = LevelCorrection()
    level.weight.copy_(state[f"{LEVEL_PREFIX}weight"].float())
    return level
