"""Train the spectrogram engine: ``moodtune train spectrogram``.

A conditional conv VAE on 128-frame log-mel slices (squared error + beta * KL with warm-up); after
fitting, an adversarial stage that sharpens the decoder (:mod:`moodtune.training.adversarial`), the
mood-conditional latent prior, held-out reconstruction through the vocoder, and a map of
the held-out latents coloured by mood.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import nn

from moodtune.audio.features import MelConfig
from moodtune.data.cache import FeatureCache, LogMelFeature
from moodtune.data.manifest import read_audio_manifest, read_summary
from moodtune.data.torch_datasets import MelSliceDataset, style_vocabulary
from moodtune.engines.spectrogram import SpectrogramEngine
from moodtune.errors import DatasetError
from moodtune.models.spectrogram_vae import SpectrogramVAE, SpectrogramVAEConfig
from moodtune.training.adversarial import sharpen_decoder
from moodtune.training.config import VAETrainConfig, option
from moodtune.training.heldout import heldout_reconstruction, heldout_rows
from moodtune.training.recipe import Finished, Recipe, Setup
from moodtune.training.vae_module import VAEModule, active_units, fit_prior_and_level
from moodtune.viz.plots import plot_latent_map


@dataclass(kw_only=True)
class SpectrogramTrainConfig(VAETrainConfig):
    """Everything a spectrogram training run depends on (saved in the run, so it can be repeated)."""

    engine: ClassVar[str] = "spectrogram"

    latent_dim: int = option(100, help="size of the latent space", positive=True)
    beta: float = option(0.01, help="KL weight after the warm-up", minimum=0.0)
    kl_warmup_steps: int = option(300, help="optimiser steps over which the KL weight ramps up from 0", minimum=0)
    prior_bandwidth: float = option(
        0.05,
        help="width (in valence/arousal) of the mood kernel over training passages that generation samples from; "
        "narrower: the asked mood is clearer, wider: more passages to draw on",
        positive=True,
    )
    adversarial_minutes: float = option(
        2.0,
        help="after the VAE's own training (--max-minutes), minutes of an adversarial stage that sharpens the "
        "decoder's note onsets and rhythm against a discriminator, the encoder frozen; 0 skips it",
        minimum=0.0,
    )


def mel_config_of(data_dir: str | Path) -> MelConfig:
    """The log-mel parameters a prepared dataset was cached with."""
    mel = dict(read_summary(data_dir)["mel"])
    mel.pop("dtype", None)
    return MelConfig(**mel)


class SpectrogramRecipe(Recipe[SpectrogramTrainConfig]):
    """Hooks of the spectrogram family."""

    def setup(self, cfg: SpectrogramTrainConfig, progress: bool) -> Setup:
        manifest = read_audio_manifest(cfg.data, "the spectrogram engine")
        styles = style_vocabulary(manifest)
        mel = mel_config_of(cfg.data)
        model_config = SpectrogramVAEConfig.preset(cfg.size, latent_dim=cfg.latent_dim, n_styles=len(styles))
        frames = model_config.frames
        train_ds = MelSliceDataset(cfg.data, "train", styles, frames, random_offset=True, manifest=manifest)
        try:
            val_ds = MelSliceDataset(cfg.data, "val", styles, frames, manifest=manifest)
        except DatasetError:
            val_ds = MelSliceDataset(cfg.data, "train", styles, frames, manifest=manifest)
        return Setup(
            module=VAEModule(SpectrogramVAE(model_config), cfg),
            train=train_ds,
            val=val_ds,
            run_config={"model": model_config.to_dict(), "styles": styles, "mel": mel.to_dict()},
            context={"manifest": manifest, "mel": mel, "styles": styles, "progress": progress},
        )

    def finish(self, cfg: SpectrogramTrainConfig, setup: Setup, model: nn.Module, out: Path) -> Finished:
        ctx = setup.context
        top_db = ctx["mel"].top_db
        stage: dict[str, Any] = {}
        if cfg.adversarial_minutes > 0:
            model, stage = sharpen_decoder(model, setup.train, cfg, cfg.adversarial_minutes, out, ctx["progress"])
        prior, level = fit_prior_and_level(
            model, setup.train, lambda x: _power_db(x, top_db), bandwidth=cfg.prior_bandwidth
        )
        engine = SpectrogramEngine(model, ctx["mel"], ctx["styles"], prior=prior, level=level)
        metrics = heldout_reconstruction(engine, ctx["manifest"], ctx["styles"], out / "plots" / "reconstruction.png")
        metrics.update(latent_map(engine, cfg.data, heldout_rows(ctx["manifest"]), out / "plots" / "latent_map.png"))
        return Finished(engine.state_dict(), {**stage, **metrics})


@torch.no_grad()
def _power_db(scaled: torch.Tensor, top_db: float) -> torch.Tensor:
    """Total mel power in dB of scaled log-mel slices ``[B, 1, n_mels, F]`` -> ``[B]``."""
    power = torch.pow(10.0, (scaled * top_db - top_db) / 10.0)
    return 10.0 * torch.log10(power.sum(dim=(1, 2, 3)))


@torch.no_grad()
def latent_map(engine: SpectrogramEngine, data_dir: str, rows: pd.DataFrame, png: Path, max_clips: int = 200) -> dict:
    """Posterior means of held-out slices (cached log-mels): ``active_units`` and a 2-D map coloured by mood."""
    cache, feature = FeatureCache(data_dir), LogMelFeature()
    records = rows.head(max_clips).to_dict("records")
    if not records:
        return {}
    latents = []
    for r in records:
        v, a = r["valence"], r["arousal"]
        known = not (pd.isna(v) or pd.isna(a))
        style = str(r["style"]) if str(r["style"]) in engine.styles[1:] else None
        mel = torch.from_numpy(cache.load_row(feature, r).astype(np.float32))
        latents.append(engine.encode(mel, v if known else None, a if known else None, style).numpy())
    mu = np.concatenate(latents)
    per_slice = [len(x) for x in latents]
    plot_latent_map(
        mu,
        np.repeat([r["valence"] for r in records], per_slice),
        np.repeat([r["arousal"] for r in records], per_slice),
        list(np.repeat([str(r["style"]) for r in records], per_slice)),
        png,
    )
    return {"active_units": active_units(torch.from_numpy(mu))}
