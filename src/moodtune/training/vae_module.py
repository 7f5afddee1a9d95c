"""LightningModules around the VAEs: reconstruction + beta * KL with KL warm-up.

:class:`VAEModule` holds any plain ``nn.Module`` VAE in ``self.model`` (``forward(x, mood, style) ->
(recon, mu, logvar)``); subclasses build the model from its config dict (so Lightning checkpoints
can rebuild it) and may add terms to the reconstruction loss.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from moodtune.models.latent_prior import ExemplarPrior
from moodtune.models.level import LevelCorrection
from moodtune.training.config import VAETrainConfig

#: A latent unit is "active" when the variance of its posterior mean over a batch exceeds this (Burda et al.).
ACTIVE_UNIT_THRESHOLD = 0.01


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """Mean over the batch of KL(q(z|x) || N(0, I)), summed over latents: ``[B, D]`` -> scalar."""
    return (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum(dim=1).mean()


def vae_losses(
    x: torch.Tensor, recon: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample means of ``(reconstruction, KL)``: squared error summed over pixels, KL summed over latents."""
    return F.mse_loss(recon, x, reduction="sum") / x.shape[0], kl_divergence(mu, logvar)


def active_units(mu: torch.Tensor) -> int:
    """Latent dimensions whose posterior mean varies across the batch (posterior collapse shows as few)."""
    if mu.shape[0] < 2:
        return 0
    return int((mu.var(dim=0) > ACTIVE_UNIT_THRESHOLD).sum())


class VAEModule(L.LightningModule):
    """Training wrapper; the model itself stays a plain ``nn.Module`` in ``self.model``.

    Logs ``loss`` (reconstruction + weighted KL), ``recon``, ``kl``, ``neg_elbo`` (reconstruction + KL:
    the negative ELBO of a unit-variance-halved Gaussian decoder, up to a constant) and active units.
    """

    def __init__(self, model: nn.Module, cfg: VAETrainConfig) -> None:
        super().__init__()
        self.model = model
        self.lr, self.beta, self.kl_warmup_steps = cfg.lr, cfg.beta, cfg.kl_warmup_steps

    def kl_weight(self) -> float:
        """beta, ramped linearly from 0 over the first ``kl_warmup_steps`` optimiser steps."""
        if self.kl_warmup_steps <= 0:
            return self.beta
        return self.beta * min(1.0, self.global_step / self.kl_warmup_steps)

    def target(self, x: torch.Tensor) -> torch.Tensor:
        """What the reconstruction is compared with (the input itself unless a model works in another space)."""
        return x

    def reconstruction_terms(self, x: torch.Tensor, recon: torch.Tensor) -> dict[str, torch.Tensor]:
        """Named terms whose sum is the reconstruction loss (squared error, ``recon``, unless a subclass says
        otherwise)."""
        return {"recon": F.mse_loss(recon, x, reduction="sum") / x.shape[0]}

    def extra_metrics(self, x: torch.Tensor, recon: torch.Tensor) -> dict[str, torch.Tensor]:
        """Named values logged per epoch but not part of the loss."""
        return {}

    def _step(self, batch: dict[str, torch.Tensor], stage: str) -> torch.Tensor:
        recon, mu, logvar = self.model(batch["x"], batch["mood"], batch["style"])
        target = self.target(batch["x"])
        terms = self.reconstruction_terms(target, recon)
        kl = kl_divergence(mu, logvar)
        weight = self.kl_weight() if stage == "train" else self.beta
        loss = sum(terms.values()) + weight * kl
        n = batch["x"].shape[0]
        on_step = stage == "train"
        # With several processes, validation metrics are means over every process's share (the best checkpoint
        # goes by val/loss); per-step training metrics are the first process's, with no all-reduce per step.
        sync = stage == "val"
        self.log(f"{stage}/loss", loss, prog_bar=True, batch_size=n, on_step=on_step, on_epoch=True, sync_dist=sync)
        for name, value in terms.items():
            self.log(f"{stage}/{name}", value, batch_size=n, on_step=on_step, on_epoch=True, sync_dist=sync)
        self.log(f"{stage}/kl", kl, batch_size=n, on_step=on_step, on_epoch=True, sync_dist=sync)
        for name, value in self.extra_metrics(target, recon.detach()).items():
            self.log(f"{stage}/{name}", value, batch_size=n, on_step=False, on_epoch=True, sync_dist=sync)
        squared_error = terms["recon"] if "recon" in terms else F.mse_loss(recon, target, reduction="sum") / n
        self.log(f"{stage}/neg_elbo", squared_error + kl, batch_size=n, on_step=False, on_epoch=True, sync_dist=sync)
        self.log(
            f"{stage}/active_units", float(active_units(mu)), batch_size=n, on_step=False, on_epoch=True, sync_dist=sync
        )
        if stage == "train":
            self.log("train/kl_weight", weight, batch_size=n, on_step=True, on_epoch=False)
        return loss

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "val")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.model.parameters(), lr=self.lr)


@contextmanager
def fixed_positions(dataset: Dataset) -> Iterator[Dataset]:
    """Switch a ``random_offset`` flag on the dataset off meanwhile, so each item is read at its fixed position."""
    was_random = getattr(dataset, "random_offset", False)
    dataset.random_offset = False
    try:
        yield dataset
    finally:
        dataset.random_offset = was_random


@torch.no_grad()
def training_posteriors(
    model: nn.Module, dataset: Dataset, batch_size: int = 64
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Posterior ``(means [N, D], logvars [N, D])`` of every training item (at its fixed position, in dataset
    order) with its ``mood [N, 3]``; ``model.encode(x, mood, style)`` gives the posterior."""
    n = len(dataset)
    means = logvars = moods = torch.empty(0)
    start = 0
    with fixed_positions(dataset):
        for batch in DataLoader(dataset, batch_size=batch_size):
            mu, logvar = model.encode(batch["x"], batch["mood"], batch["style"])
            if start == 0:  # filled in place: no small tensor per batch left between the batches' large ones
                means, logvars = mu.new_empty((n, mu.shape[1])), mu.new_empty((n, mu.shape[1]))
                moods = batch["mood"].new_empty((n, batch["mood"].shape[1]))
            end = start + len(mu)
            means[start:end], logvars[start:end], moods[start:end] = mu, logvar, batch["mood"]
            start = end
    return means[:start], logvars[:start], moods[:start]


def fit_latent_prior(model: nn.Module, dataset: Dataset, batch_size: int = 64) -> ExemplarPrior:
    """The mood prior the engines sample from: the training posteriors weighted by mood (:class:`ExemplarPrior`)."""
    return ExemplarPrior.fit(*training_posteriors(model, dataset, batch_size))


@torch.no_grad()
def fit_level_correction(
    model: nn.Module,
    dataset: Dataset,
    means: torch.Tensor,
    power_db: Callable[[torch.Tensor], torch.Tensor],
    batch_size: int = 64,
) -> LevelCorrection:
    """How many dB quieter the model gives back each training item, as a function of the item's mood.

    ``means [N, D]`` are the posterior means from :func:`training_posteriors` (same dataset order); each item
    is decoded from its mean and ``power_db`` (``[B, ...]`` -> ``[B]`` in dB) of the original is compared
    with that of the reconstruction.
    """
    gains, moods, start = torch.empty(len(means)), torch.empty((len(means), 3)), 0
    with fixed_positions(dataset):
        for batch in DataLoader(dataset, batch_size=batch_size):
            end = start + len(batch["x"])
            recon = model.decode(means[start:end], batch["mood"], batch["style"])
            gains[start:end], moods[start:end] = power_db(batch["x"]) - power_db(recon), batch["mood"]
            start = end
    return LevelCorrection.fit(gains[:start], moods[:start])


def fit_prior_and_level(
    model: nn.Module,
    dataset: Dataset,
    power_db: Callable[[torch.Tensor], torch.Tensor],
    batch_size: int = 64,
    bandwidth: float = 0.2,
) -> tuple[ExemplarPrior, LevelCorrection]:
    """What an engine samples with: the mood prior (kernel ``bandwidth``) and the level correction, from one pass
    of posteriors."""
    means, logvars, moods = training_posteriors(model, dataset, batch_size)
    level = fit_level_correction(model, dataset, means, power_db, batch_size)
    return ExemplarPrior.fit(means, logvars, moods, bandwidth), level
