"""LightningModule around :class:`SpectrogramVAE`: reconstruction + beta * KL with KL warm-up."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
import torch.nn.functional as F

from moodtune.models.spectrogram_vae import SpectrogramVAE, SpectrogramVAEConfig

#: A latent unit is "active" when the variance of its posterior mean over a batch exceeds this (Burda et al.).
ACTIVE_UNIT_THRESHOLD = 0.01


def vae_losses(
    x: torch.Tensor, recon: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-sample means of ``(reconstruction, KL)``: squared error summed over pixels, KL summed over latents."""
    rec = F.mse_loss(recon, x, reduction="sum") / x.shape[0]
    kl = (-0.5 * (1 + logvar - mu.pow(2) - logvar.exp())).sum(dim=1).mean()
    return rec, kl


def active_units(mu: torch.Tensor) -> int:
    """Latent dimensions whose posterior mean varies across the batch (posterior collapse shows as few)."""
    if mu.shape[0] < 2:
        return 0
    return int((mu.var(dim=0) > ACTIVE_UNIT_THRESHOLD).sum())


class SpectrogramVAEModule(L.LightningModule):
    """Training wrapper; the model itself stays a plain ``nn.Module`` in ``self.model``."""

    def __init__(
        self, model_config: dict[str, Any], lr: float = 1e-3, beta: float = 1.0, kl_warmup_steps: int = 500
    ) -> None:
        super().__init__()
        self.save_hyperparameters()
        self.model = SpectrogramVAE(SpectrogramVAEConfig.from_dict(model_config))
        self.lr, self.beta, self.kl_warmup_steps = lr, beta, kl_warmup_steps

    def kl_weight(self) -> float:
        """beta, ramped linearly from 0 over the first ``kl_warmup_steps`` optimiser steps."""
        if self.kl_warmup_steps <= 0:
            return self.beta
        return self.beta * min(1.0, self.global_step / self.kl_warmup_steps)

    def _step(self, batch: dict[str, torch.Tensor], stage: str) -> torch.Tensor:
        recon, mu, logvar = self.model(batch["x"], batch["mood"], batch["style"])
        rec, kl = vae_losses(batch["x"], recon, mu, logvar)
        weight = self.kl_weight() if stage == "train" else self.beta
        loss = rec + weight * kl
        n = batch["x"].shape[0]
        on_step = stage == "train"
        self.log(f"{stage}/loss", loss, prog_bar=True, batch_size=n, on_step=on_step, on_epoch=True)
        self.log(f"{stage}/recon", rec, batch_size=n, on_step=on_step, on_epoch=True)
        self.log(f"{stage}/kl", kl, batch_size=n, on_step=on_step, on_epoch=True)
        self.log(f"{stage}/active_units", float(active_units(mu)), batch_size=n, on_step=False, on_epoch=True)
        if stage == "train":
            self.log("train/kl_weight", weight, batch_size=n, on_step=True, on_epoch=False)
        return loss

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "val")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adam(self.model.parameters(), lr=self.lr)
