"""A mood-conditional Gaussian prior over a VAE's latent space, fitted after training.

A conditional VAE's decoder can learn to ignore its condition when the latent already carries
the information. Sampling z from N(0, I) then gives the same music for every mood. This prior
fixes that at generation time. It regresses the posterior means of the training slices on the
mood, ``mu ~ W [valence*known, arousal*known, known, 1 - known]``, and keeps the residual
covariance, so ``z = W m + L eps`` lands where the training data of that mood lives.
"""

from __future__ import annotations

import torch
from torch import nn


def _design(mood: torch.Tensor) -> torch.Tensor:
    """``mood [N, 3]`` (valence, arousal, known) -> design ``[N, 4]``."""
    known = mood[:, 2:3]
    return torch.cat([mood[:, 0:1] * known, mood[:, 1:2] * known, known, 1 - known], dim=1)


class MoodLatentPrior(nn.Module):
    """``z = W design(mood) + temperature * L eps``; buffers ``weight [4, D]`` and ``chol [D, D]``."""

    def __init__(self, latent_dim: int) -> None:
        super().__init__()
        self.register_buffer("weight", torch.zeros(4, latent_dim))
        self.register_buffer("chol", torch.eye(latent_dim))

    @classmethod
    def fit(
        cls, latents: torch.Tensor, mood: torch.Tensor, ridge: float = 1e-3, jitter: float = 1e-4
    ) -> MoodLatentPrior:
        """Least-squares fit on posterior means ``latents [N, D]`` with their ``mood [N, 3]``."""
        x = _design(mood.double())
        y = latents.double()
        gram = x.T @ x + ridge * torch.eye(x.shape[1], dtype=torch.float64)
        weight = torch.linalg.solve(gram, x.T @ y)
        resid = y - x @ weight
        cov = resid.T @ resid / max(len(y) - 1, 1) + jitter * torch.eye(y.shape[1], dtype=torch.float64)
        prior = cls(latents.shape[1])
        prior.weight.copy_(weight.float())
        prior.chol.copy_(torch.linalg.cholesky(cov).float())
        return prior

    def mean(self, mood: torch.Tensor) -> torch.Tensor:
        """Prior mean ``[B, D]`` for ``mood [B, 3]``."""
        return _design(mood) @ self.weight

    def sample(self, mood: torch.Tensor, eps: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """``z [B, D]`` from standard-normal ``eps [B, D]``."""
        return self.mean(mood) + temperature * eps @ self.chol.T


#: Key prefix of the prior's buffers inside an engine's exported weights.
PRIOR_PREFIX = "prior."


def prior_state(prior: MoodLatentPrior | None) -> dict[str, torch.Tensor]:
    """The prior's buffers under :data:`PRIOR_PREFIX` (empty without a prior), to merge into exported weights."""
    return {} if prior is None else {f"{PRIOR_PREFIX}{k}": v for k, v in prior.state_dict().items()}


def prior_from_state(state: dict[str, torch.Tensor], latent_dim: int) -> MoodLatentPrior | None:
    """The prior stored in exported weights by :func:`prior_state`, or None when there is none."""
    own = {k.removeprefix(PRIOR_PREFIX): v for k, v in state.items() if k.startswith(PRIOR_PREFIX)}
    if not own:
        return None
    prior = MoodLatentPrior(latent_dim)
    prior.load_state_dict(own)
    return prior
