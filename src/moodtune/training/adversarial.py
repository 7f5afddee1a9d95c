"""The spectrogram decoder's adversarial stage: sharpen what the VAE blurs, without moving its latents.

A VAE trained on squared error decodes the mean of what a latent could be: note onsets and the frame-to-frame
changes that carry rhythm come back smeared, and music asked to be lively is heard as calm. After the VAE's
own training, this stage fine-tunes the decoder against a :class:`MelDiscriminator` (hinge loss) with feature
matching and a squared-error anchor to the input. The encoder and the mood/style conditioner stay frozen, so
the posteriors (and the latent prior, the sequence and latent engines built on them) keep their meaning.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import time
from pathlib import Path
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import Dataset

from moodtune.fsutil import write_json_atomic
from moodtune.models.discriminator import MelDiscriminator
from moodtune.training.config import TrainConfig
from moodtune.training.trainer import fit, last_checkpoint, loaders, saved_counters

#: Weights of the decoder's loss terms: adversarial (hinge), feature matching (L1 over the discriminator's
#: feature maps) and squared error to the input (per pixel, x 1000 so that it is of the order of the others).
ADV_WEIGHT, FEATURE_WEIGHT, RECON_WEIGHT = 1.0, 10.0, 1.0
#: Learning rate and Adam betas of both networks in this stage.
LR, BETAS = 2e-4, (0.5, 0.9)
#: Where the stage keeps its Lightning checkpoints and logs, inside the run folder.
STAGE_DIR = "adversarial"
#: In the stage's folder: the VAE training step the stage started from.
STARTED_FROM = "started_from.json"


def vae_step(out: Path) -> int:
    """The optimiser steps of the VAE's own training in the run ``out`` (0 before it saved a checkpoint)."""
    return saved_counters(last_checkpoint(out))[1] if last_checkpoint(out).is_file() else 0


def stage_to_resume(out: Path, resume: bool, step: int) -> Path | None:
    """The stage checkpoint a resumed run continues from: only when the stage started from the VAE as it is
    now (``step``: :func:`vae_step`). When the VAE trained on (a resumed run given more epochs or minutes), the
    old stage is dropped and the stage starts again from the new weights."""
    stage_dir = out / STAGE_DIR
    marker = stage_dir / STARTED_FROM
    if resume and last_checkpoint(stage_dir).is_file() and marker.is_file():
        if json.loads(marker.read_text()).get("vae_step") == step:
            return last_checkpoint(stage_dir)
    if stage_dir.exists():
        shutil.rmtree(stage_dir)
    return None


def frozen_parts(model: nn.Module) -> list[nn.Module]:
    """The parts of a spectrogram VAE the stage leaves alone: encoder, posterior head, conditioner."""
    return [model.encoder, model.to_stats, model.conditioner]


def hinge_losses(real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """The discriminator's hinge loss on logits of real and generated patches (any equal shapes) -> scalar."""
    return F.relu(1 - real).mean() + F.relu(1 + fake).mean()


def feature_matching(fake: list[torch.Tensor], real: list[torch.Tensor]) -> torch.Tensor:
    """Mean over layers of the L1 distance between the discriminator's feature maps of generated and real input."""
    return sum(F.l1_loss(f, r.detach()) for f, r in zip(fake, real, strict=True)) / len(fake)


class AdversarialDecoderModule(L.LightningModule):
    """Fine-tunes ``self.model``'s decoder (a :class:`~moodtune.models.spectrogram_vae.SpectrogramVAE`) against
    ``self.discriminator``; batches are the VAE's (``x [B, 1, n_mels, frames]``, ``mood [B, 3]``, ``style [B]``).

    Each step: one discriminator update on the batch and its decoding from a posterior sample, then one decoder
    update on ``ADV_WEIGHT * (-logits) + FEATURE_WEIGHT * feature matching + RECON_WEIGHT * 1000 * MSE``.
    """

    #: The discriminator's backward pass gives the decoder no gradient: DDP must not wait for one.
    ddp_find_unused_parameters = True

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.automatic_optimization = False
        self.model = model
        self.discriminator = MelDiscriminator()
        for part in frozen_parts(model):
            part.requires_grad_(False)

    def training_step(self, batch: dict[str, torch.Tensor], batch_idx: int) -> None:
        x, mood, style = batch["x"], batch["mood"], batch["style"]
        g_opt, d_opt = self.optimizers()
        with torch.no_grad():
            mu, logvar = self.model.encode(x, mood, style)
            z = mu + torch.randn_like(mu) * torch.exp(0.5 * logvar)
        fake = self.model.decode(z, mood, style)
        real_logits, real_features = self.discriminator(x)
        d_loss = hinge_losses(real_logits, self.discriminator(fake.detach())[0])
        d_opt.zero_grad()
        self.manual_backward(d_loss)
        d_opt.step()
        fake_logits, fake_features = self.discriminator(fake)
        adv = -fake_logits.mean()
        fm = feature_matching(fake_features, real_features)
        recon = F.mse_loss(fake, x) * 1000
        loss = ADV_WEIGHT * adv + FEATURE_WEIGHT * fm + RECON_WEIGHT * recon
        g_opt.zero_grad()
        self.manual_backward(loss)
        g_opt.step()
        terms = {"loss": loss, "d_loss": d_loss, "adv": adv, "feature_matching": fm, "recon": recon}
        self.log_dict({f"train/{k}": v for k, v in terms.items()}, on_step=True, on_epoch=True, prog_bar=True)

    def configure_optimizers(self) -> Any:
        decoder = [p for p in self.model.parameters() if p.requires_grad]
        return [
            torch.optim.Adam(decoder, lr=LR, betas=BETAS),
            torch.optim.Adam(self.discriminator.parameters(), lr=LR, betas=BETAS),
        ]


def sharpen_decoder(
    model: nn.Module,
    train: Dataset,
    cfg: TrainConfig,
    minutes: float,
    out: Path,
    progress: bool = True,
    verbose: bool = False,
) -> tuple[nn.Module, dict[str, Any]]:
    """Run the adversarial stage on ``model`` for up to ``minutes`` (and at most ``cfg.epochs`` epochs) with the
    run's batch size; Lightning checkpoints and logs go to ``out / STAGE_DIR``. A resumed run continues the
    stage from its last checkpoint if the VAE did not train further (:func:`stage_to_resume`). Returns the
    model (CPU, eval mode, every parameter trainable again) and the stage's counts (``adversarial_steps``:
    decoder updates, one per batch; ``adversarial_minutes``: this call's)."""
    started = time.perf_counter()
    stage_dir = out / STAGE_DIR
    step = vae_step(out)  # reads the VAE's last checkpoint: once
    resume_from = stage_to_resume(out, cfg.resume, step)
    stage_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(stage_dir / STARTED_FROM, {"vae_step": step})
    # one process: in a multi-process run the others have finished with the VAE's own training
    stage_cfg = dataclasses.replace(cfg, max_minutes=minutes, devices=1, num_nodes=1, strategy="auto")
    loader, _ = loaders(train, train, cfg.batch_size)
    module = AdversarialDecoderModule(model.train())
    fitted = fit(module, stage_dir, stage_cfg, loader, None, resume_from, started, progress, verbose, monitor=None)
    if fitted is None:
        raise RuntimeError("the adversarial stage ran in another process")
    model, counts = fitted
    for part in frozen_parts(model):  # (on an exception the model is not used again)
        part.requires_grad_(True)
    # Lightning counts every optimiser's step: two (discriminator, decoder) per batch
    return model, {"adversarial_steps": counts["steps"] // 2, "adversarial_minutes": counts["train_minutes"]}
