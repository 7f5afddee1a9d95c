"""Lightning wrapper of the latent sequence model: L2 with scheduled sampling, plus an optional GAN loss."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import lightning as L
import torch
import torch.nn.functional as F

from moodtune.models.sequence import LatentSequenceModel, SequenceDiscriminator, SequenceModelConfig

if TYPE_CHECKING:
    from moodtune.training.sequence import SequenceTrainConfig


class SequenceModule(L.LightningModule):
    """Trains :class:`LatentSequenceModel` (``self.model``) and, with ``loss="gan"``, a discriminator.

    Batches: ``z [B, T, D]`` (standardised latents), ``mood [B, T, 3]``, ``style [B]``. The generator's
    loss is the L2 of its next-latent predictions plus ``adv_weight`` x the non-saturating GAN loss of
    its roll-out. Scheduled sampling feeds the model its own predictions with a probability rising
    linearly to ``max_sample_prob`` over ``ramp_steps``. Validation reports free-running L2 (the model
    fed only its own predictions) as ``val/loss``.
    """

    #: The discriminator's backward pass gives the generator no gradient: DDP must not wait for one.
    ddp_find_unused_parameters = True

    def __init__(
        self, config: dict[str, Any], cfg: SequenceTrainConfig, max_sample_prob: float = 0.5, ramp_steps: int = 500
    ) -> None:
        super().__init__()
        self.automatic_optimization = False
        model_config = SequenceModelConfig(**config)
        self.model = LatentSequenceModel(model_config)
        self.discriminator = SequenceDiscriminator(model_config) if cfg.loss == "gan" else None
        self.noise_dim = model_config.noise_dim
        self.lr, self.adv_weight = cfg.lr, cfg.adv_weight
        self.max_sample_prob, self.ramp_steps = max_sample_prob, ramp_steps

    def _noise(self, z: torch.Tensor) -> torch.Tensor:
        return torch.randn(z.shape[0], z.shape[1], self.noise_dim, device=z.device)

    def sample_prob(self) -> float:
        return self.max_sample_prob * min(1.0, self.global_step / max(1, self.ramp_steps))

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        z, mood, style = batch["z"], batch["mood"], batch["style"]
        opts = self.optimizers()
        g_opt, d_opt = opts if isinstance(opts, list) else (opts, None)
        pred = self.model.rollout(z, mood, style, self._noise(z), self.sample_prob())
        l2 = F.mse_loss(pred, z[:, 1:])
        loss = l2
        if self.discriminator is not None and d_opt is not None:
            fake = torch.cat([z[:, :1], pred], dim=1)
            real_logit = self.discriminator(z, mood, style)
            fake_logit = self.discriminator(fake.detach(), mood, style)
            d_loss = F.binary_cross_entropy_with_logits(
                real_logit, torch.ones_like(real_logit)
            ) + F.binary_cross_entropy_with_logits(fake_logit, torch.zeros_like(fake_logit))
            d_opt.zero_grad()
            self.manual_backward(d_loss)
            d_opt.step()
            g_logit = self.discriminator(fake, mood, style)
            adv = F.binary_cross_entropy_with_logits(g_logit, torch.ones_like(g_logit))
            loss = l2 + self.adv_weight * adv
            self.log_dict({"train/d_loss": d_loss, "train/adv": adv}, on_step=True, on_epoch=True)
        g_opt.zero_grad()
        self.manual_backward(loss)
        self.clip_gradients(g_opt, gradient_clip_val=1.0, gradient_clip_algorithm="norm")
        g_opt.step()
        self.log_dict({"train/loss": loss, "train/l2": l2}, on_step=True, on_epoch=True, prog_bar=True)

    def validation_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        z, mood, style = batch["z"], batch["mood"], batch["style"]
        noise = self._noise(z)
        forced = F.mse_loss(self.model.rollout(z, mood, style, noise, 0.0), z[:, 1:])
        free = F.mse_loss(self.model.rollout(z, mood, style, noise, 1.0), z[:, 1:])
        self.log_dict({"val/loss": free, "val/l2_forced": forced}, on_epoch=True, prog_bar=True, sync_dist=True)

    def configure_optimizers(self) -> Any:
        g = torch.optim.Adam(self.model.parameters(), lr=self.lr)
        if self.discriminator is None:
            return g
        return [g, torch.optim.Adam(self.discriminator.parameters(), lr=self.lr, betas=(0.5, 0.999))]
