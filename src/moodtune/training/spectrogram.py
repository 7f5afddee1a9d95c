"""Train the spectrogram engine: ``moodtune train spectrogram``."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch

from moodtune.audio.features import MelConfig
from moodtune.data.cache import FeatureCache, LogMelFeature
from moodtune.data.manifest import read_manifest, read_summary
from moodtune.data.torch_datasets import MelSliceDataset, style_vocabulary
from moodtune.engines.checkpoint import save_checkpoint
from moodtune.engines.spectrogram import SpectrogramEngine
from moodtune.errors import DatasetError, MoodtuneError
from moodtune.evaluation.reconstruction import log_spectral_distance, scaled_to_db
from moodtune.fsutil import write_json_atomic
from moodtune.models.spectrogram_vae import SpectrogramVAEConfig
from moodtune.training.trainer import check_run_folder, fit, loaders, resumed_config, write_training_plots
from moodtune.training.vae_module import SpectrogramVAEModule, fit_latent_prior
from moodtune.viz.plots import plot_latent_map, plot_reconstruction


@dataclass
class SpectrogramTrainConfig:
    """Everything a spectrogram training run depends on (saved in the run, so it can be repeated)."""

    data: str
    out: str
    epochs: int = 30
    max_minutes: float | None = None
    size: str = "small"
    latent_dim: int = 100
    batch_size: int = 32
    lr: float = 1e-3
    beta: float = 0.01
    kl_warmup_steps: int = 300
    accelerator: str = "auto"
    devices: int = 1
    seed: int = 0
    limit_train_batches: int | None = None


def mel_config_of(data_dir: str | Path) -> MelConfig:
    """The log-mel parameters a prepared dataset was cached with."""
    mel = dict(read_summary(data_dir)["mel"])
    mel.pop("dtype", None)
    return MelConfig(**mel)


def train_spectrogram(cfg: SpectrogramTrainConfig, resume: bool = False, progress: bool = True) -> dict[str, Any]:
    """Train, export ``model.safetensors`` + ``config.json`` into ``cfg.out``, write plots; returns the results."""
    t0 = time.perf_counter()
    out = Path(cfg.out)
    resume_from = check_run_folder(out, resume)
    cfg = resumed_config(out, cfg, resume)
    if cfg.epochs < 1 or cfg.batch_size < 1 or cfg.latent_dim < 1:
        raise MoodtuneError("--epochs, --batch-size and --latent-dim must be positive")
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    manifest = read_manifest(cfg.data)
    styles = style_vocabulary(manifest)
    mel = mel_config_of(cfg.data)
    model_config = SpectrogramVAEConfig.preset(cfg.size, latent_dim=cfg.latent_dim, n_styles=len(styles))
    train_ds = MelSliceDataset(cfg.data, "train", styles, model_config.frames, random_offset=True, manifest=manifest)
    try:
        val_ds = MelSliceDataset(cfg.data, "val", styles, model_config.frames, manifest=manifest)
    except DatasetError:
        val_ds = MelSliceDataset(cfg.data, "train", styles, model_config.frames, manifest=manifest)
    train_loader, val_loader = loaders(train_ds, val_ds, cfg.batch_size, cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    run_config = {
        "engine": "spectrogram",
        "train": asdict(cfg),
        "model": model_config.to_dict(),
        "styles": styles,
        "mel": mel.to_dict(),
    }
    write_json_atomic(out / "train_config.json", run_config)
    module = SpectrogramVAEModule(model_config.to_dict(), cfg.lr, cfg.beta, cfg.kl_warmup_steps)
    model, results = fit(
        module,
        out,
        cfg,
        train_loader,
        val_loader,
        resume_from,
        progress,
        t0,
        limit_train_batches=cfg.limit_train_batches,
    )
    engine = SpectrogramEngine(model, mel, styles, prior=fit_latent_prior(model, train_ds))
    results.update(evaluate_reconstruction(engine, cfg.data, manifest, out / "plots"))
    save_checkpoint(out, "spectrogram", engine.state_dict(), {**run_config, "data": str(cfg.data), "results": results})
    write_training_plots(out)
    return results


def evaluate_reconstruction(
    engine: SpectrogramEngine, data_dir: str, manifest: Any, plot_dir: Path, max_clips: int = 200
) -> dict[str, Any]:
    """Held-out (test split) log-spectral distance in dB and active units; latent-map and reconstruction plots."""
    cache, feature = FeatureCache(data_dir), LogMelFeature()
    held = manifest[manifest["split"] == "test"]
    if held.empty:
        held = manifest[manifest["split"] == "val"]
    split = str(held["split"].iloc[0]) if not held.empty else "train"
    rows = held.head(max_clips).to_dict("records")
    lsd, latents = [], []
    for i, row in enumerate(rows):
        mel = torch.from_numpy(cache.load_row(feature, row).astype(np.float32))
        labels = _labels(row, engine)
        mu, rec_tensor = engine.encode_and_reconstruct(mel, **labels)
        rec = rec_tensor.numpy()
        lsd.append(log_spectral_distance(scaled_to_db(mel.numpy()), scaled_to_db(rec)))
        latents.append(mu.numpy())
        if i == 0:
            plot_reconstruction(mel.numpy(), rec, plot_dir / "reconstruction.png", f"({row['clip_id']}, held out)")
    results: dict[str, Any] = {"heldout_split": split, "heldout_clips": len(rows)}
    if rows:
        mu = np.concatenate(latents)
        results["heldout_lsd_db"] = round(float(np.mean(lsd)), 3)
        results["active_units"] = int((mu.var(axis=0) > 0.01).sum()) if len(mu) > 1 else 0
        per_slice = [len(x) for x in latents]
        plot_latent_map(
            mu,
            np.repeat([r["valence"] for r in rows], per_slice),
            np.repeat([r["arousal"] for r in rows], per_slice),
            list(np.repeat([str(r["style"]) for r in rows], per_slice)),
            plot_dir / "latent_map.png",
        )
    return results


def _labels(row: dict[str, Any], engine: SpectrogramEngine) -> dict[str, Any]:
    v, a = row["valence"], row["arousal"]
    known = v is not None and a is not None and not (np.isnan(v) or np.isnan(a))
    style = str(row["style"]) if str(row["style"]) in engine.styles[1:] else None
    return {"valence": float(v) if known else None, "arousal": float(a) if known else None, "style": style}
