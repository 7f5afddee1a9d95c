"""LightningModule around the symbolic network (LSTM or Transformer): cross-entropy on every next token, Adamax."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch
import torch.nn.functional as F

from moodtune.models.symbolic import symbolic_model
from moodtune.training.config import TrainConfig


class SymbolicModule(L.LightningModule):
    """Training wrapper; logs loss and perplexity for train and validation.

    In training, each window's mood is hidden (all zeros: the "unknown" mood) with probability ``mood_dropout``,
    so the same network also predicts without a mood; generation can then push its choices away from that
    unconditioned prediction, towards the asked mood (guidance).
    """

    def __init__(self, model_config: dict[str, Any], cfg: TrainConfig, pad_id: int, mood_dropout: float = 0.0) -> None:
        super().__init__()
        self.model = symbolic_model(model_config)
        self.lr, self.pad_id, self.mood_dropout = cfg.lr, pad_id, mood_dropout

    def _step(self, batch: dict[str, torch.Tensor], stage: str) -> torch.Tensor:
        tokens, mood = batch["tokens"], batch["mood"]  # [B, T + 1], [B, T + 1, 3]
        if stage == "train" and self.mood_dropout > 0:
            hidden = torch.rand(mood.shape[0], 1, 1, device=mood.device) < self.mood_dropout
            mood = mood.masked_fill(hidden, 0.0)
        logits = self.model(tokens[:, :-1], mood[:, :-1], batch["style"])
        loss = F.cross_entropy(
            logits.reshape(-1, logits.shape[-1]), tokens[:, 1:].reshape(-1), ignore_index=self.pad_id
        )
        n = tokens.shape[0]
        self.log(
            f"{stage}/loss",
            loss,
            prog_bar=True,
            batch_size=n,
            on_step=stage == "train",
            on_epoch=True,
            sync_dist=stage == "val",  # several processes: validation over all shares, no all-reduce per step
        )
        if stage == "val":
            self.log("val/perplexity", torch.exp(loss), prog_bar=True, batch_size=n, on_epoch=True, sync_dist=True)
        return loss

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> torch.Tensor:
        return self._step(batch, "val")

    def configure_optimizers(self) -> torch.optim.Optimizer:
        return torch.optim.Adamax(self.model.parameters(), lr=self.lr)
