"""Mood-conditional priors over a VAE's latent space, fitted after training.

A conditional VAE's decoder can learn to ignore its condition when the latent already carries the
information; sampling z from N(0, I) then gives the same music for every mood. A prior fitted on the
training posteriors fixes that at generation time:

* :class:`ExemplarPrior` (what the engines fit): the training posteriors themselves, weighted by how close
  each item's mood is to the asked one, so z lands on latents the decoder renders sharply.
* :class:`MoodLatentPrior`: a Gaussian regressed on the mood, ``mu ~ W [valence*known, arousal*known,
  known, 1 - known]`` with the residual covariance; kept so runs saved with it still load.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def mood_design(mood: torch.Tensor) -> torch.Tensor:
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
        x = mood_design(mood.double())
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
        return mood_design(mood) @ self.weight

    def sample(self, mood: torch.Tensor, eps: torch.Tensor, temperature: float = 1.0) -> torch.Tensor:
        """``z [B, D]`` from standard-normal ``eps [B, D]``."""
        return self.mean(mood) + temperature * eps @ self.chol.T

    def spread(self, eps: torch.Tensor) -> torch.Tensor:
        """``eps [B, D]`` scaled to the residual spread of the training latents around their mood's mean."""
        return eps @ self.chol.T


class ExemplarPrior(nn.Module):
    """A mood-weighted mixture of the training posteriors: the aggregate posterior, conditioned on mood.

    Buffers: ``means [N, D]`` and ``stds [N, D]`` of the posteriors of N training items, their
    ``moods [N, 3]``. For an asked mood ``m`` an item ``j`` is drawn with weight
    ``exp(-|va - va_j|^2 / (2 h^2))`` (``h`` = ``bandwidth``; uniform when the mood is unknown) and
    ``z = means_j + temperature * stds_j * eps``. Unlike :class:`MoodLatentPrior`, z stays where the
    decoder was trained, near the items of the asked mood, so the decoder's output keeps the onsets
    and level of that mood instead of the blur between modes.
    """

    def __init__(self, n: int, latent_dim: int, bandwidth: float = 0.2) -> None:
        super().__init__()
        self.register_buffer("means", torch.zeros(n, latent_dim))
        self.register_buffer("stds", torch.ones(n, latent_dim))
        self.register_buffer("moods", torch.zeros(n, 3))
        self.register_buffer("bandwidth", torch.tensor(float(bandwidth)))

    @classmethod
    def fit(
        cls, means: torch.Tensor, logvars: torch.Tensor, mood: torch.Tensor, bandwidth: float = 0.2
    ) -> ExemplarPrior:
        """Keep the posteriors ``means, logvars [N, D]`` of the training items with their ``mood [N, 3]``."""
        prior = cls(means.shape[0], means.shape[1], bandwidth)
        prior.means.copy_(means.float())
        prior.stds.copy_(torch.exp(0.5 * logvars.float()))
        prior.moods.copy_(mood.float())
        return prior

    def weights(self, mood: torch.Tensor) -> torch.Tensor:
        """Mixture weights ``[B, N]`` (rows sum to one) for ``mood [B, 3]``."""
        known_items = self.moods[:, 2] > 0.5
        d2 = torch.cdist(mood[:, :2], self.moods[:, :2]).pow(2)
        logits = -d2 / (2 * self.bandwidth**2)
        logits = torch.where(known_items[None], logits, torch.full_like(logits, -torch.inf))
        unknown = mood[:, 2] < 0.5
        logits = torch.where(unknown[:, None], torch.zeros_like(logits), logits)
        logits = logits - logits.max(dim=1, keepdim=True).values
        w = logits.exp()
        return w / w.sum(dim=1, keepdim=True)

    def pick(
        self, mood: torch.Tensor, uniform: torch.Tensor, near: torch.Tensor | None = None, reach: float = 0.5
    ) -> torch.Tensor:
        """Item indices ``[B]`` drawn by inverse CDF from ``uniform [B]`` in [0, 1).

        With ``near [B, D]`` the mood weights are multiplied by a Gaussian kernel in latent space around it,
        ``reach`` times the spread of all items wide: items of the asked mood close to ``near`` are favoured.
        """
        w = self.weights(mood)
        if near is not None:
            scale2 = (reach**2) * self.means.var(dim=0).sum().clamp_min(1e-8)
            closeness = torch.softmax(-torch.cdist(near, self.means).pow(2) / (2 * scale2), dim=1)
            w = w * closeness
            w = w / w.sum(dim=1, keepdim=True).clamp_min(1e-30)
        cdf = w.cumsum(dim=1)
        idx = torch.searchsorted(cdf, uniform[:, None].clamp(0, 1 - 1e-6).to(cdf.dtype)).squeeze(1)
        return idx.clamp(max=len(self.means) - 1)

    def mean(self, mood: torch.Tensor) -> torch.Tensor:
        """Mixture mean ``[B, D]`` for ``mood [B, 3]``."""
        return self.weights(mood) @ self.means

    def sample(
        self,
        mood: torch.Tensor,
        eps: torch.Tensor,
        temperature: float = 1.0,
        near: torch.Tensor | None = None,
        reach: float = 0.5,
    ) -> torch.Tensor:
        """``z [B, D]`` from standard-normal ``eps [B, D]``: the first column, through the normal CDF, draws the
        item (with ``near [B, D]``, e.g. a sequence model's proposal, one close to it: :meth:`pick`); the
        others perturb within its posterior."""
        uniform = 0.5 * (1 + torch.erf(eps[:, 0] / math.sqrt(2)))
        j = self.pick(mood, uniform, near, reach)
        return self.means[j] + temperature * self.stds[j] * eps

    def spread(self, eps: torch.Tensor) -> torch.Tensor:
        """``eps [B, D]`` scaled to the spread of the training latents around their mixture mean."""
        return eps * self.means.std(dim=0)


#: Key prefix of the prior's buffers inside an engine's exported weights.
PRIOR_PREFIX = "prior."


LatentPrior = MoodLatentPrior | ExemplarPrior


def prior_state(prior: LatentPrior | None) -> dict[str, torch.Tensor]:
    """The prior's buffers under :data:`PRIOR_PREFIX` (empty without a prior), to merge into exported weights."""
    return {} if prior is None else {f"{PRIOR_PREFIX}{k}": v for k, v in prior.state_dict().items()}


def prior_from_state(state: dict[str, torch.Tensor], latent_dim: int) -> LatentPrior | None:
    """The prior stored in exported weights by :func:`prior_state` (either kind), or None when there is none."""
    own = {k.removeprefix(PRIOR_PREFIX): v for k, v in state.items() if k.startswith(PRIOR_PREFIX)}
    if not own:
        return None
    prior: LatentPrior
    if "means" in own:
        prior = ExemplarPrior(len(own["means"]), latent_dim)
        own = {k: v.float() for k, v in own.items()}
    else:
        prior = MoodLatentPrior(latent_dim)
    prior.load_state_dict(own)
    return prior
