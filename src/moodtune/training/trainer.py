"""Lightning Trainer set-up shared by the engines: checkpoints, CSV metrics, time limit, resume."""

from __future__ import annotations

import contextlib
import json
import logging
import time
import warnings
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from torch.utils.data import DataLoader, Dataset

from moodtune.errors import MoodtuneError

T = TypeVar("T")

CHECKPOINT_DIR = "checkpoints"
LOG_DIR = "logs"


def last_checkpoint(out_dir: Path) -> Path:
    """Path of the resumable Lightning checkpoint of a run."""
    return out_dir / CHECKPOINT_DIR / "last.ckpt"


def check_run_folder(out_dir: Path, resume: bool) -> Path | None:
    """The checkpoint to resume from (None for a fresh run); refuses to overwrite a run without ``resume``."""
    last = last_checkpoint(out_dir)
    if resume:
        if not last.is_file():
            raise MoodtuneError(f"{out_dir}: nothing to resume (no {CHECKPOINT_DIR}/last.ckpt)")
        return last
    if last.is_file():
        raise MoodtuneError(
            f"{out_dir} already holds a training run; pass --resume to continue it, or choose another --out"
        )
    return None


def resumed_config(out_dir: Path, cfg: T, resume: bool) -> T:
    """The run's saved training config when resuming (new epochs / time limit kept), else ``cfg``."""
    if not resume:
        return cfg
    saved = json.loads((out_dir / "train_config.json").read_text())["train"]
    return type(cfg)(**{**saved, "epochs": cfg.epochs, "max_minutes": cfg.max_minutes})  # type: ignore[call-arg]


def load_best_weights(module: L.LightningModule, ckpt: ModelCheckpoint) -> torch.nn.Module:
    """Put the best (else last) checkpoint's weights into ``module.model``; returns it on the CPU in eval mode."""
    best = ckpt.best_model_path or ckpt.last_model_path
    if best:
        state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
        module.model.load_state_dict({k.removeprefix("model."): v for k, v in state.items() if k.startswith("model.")})
    return module.model.cpu().eval()


def build_trainer(
    out_dir: Path,
    epochs: int,
    max_minutes: float | None = None,
    accelerator: str = "auto",
    devices: int = 1,
    progress: bool = True,
    monitor: str = "val/loss",
    limit_train_batches: int | float | None = None,
    limit_val_batches: int | float | None = None,
) -> tuple[L.Trainer, ModelCheckpoint]:
    """A Trainer writing ``checkpoints/{best,last}.ckpt`` and ``logs/version_N/metrics.csv`` under ``out_dir``."""
    ckpt = ModelCheckpoint(
        dirpath=out_dir / CHECKPOINT_DIR,
        filename="best",
        monitor=monitor,
        mode="min",
        save_top_k=1,
        save_last=True,
        enable_version_counter=False,
    )
    trainer = L.Trainer(
        default_root_dir=str(out_dir),
        max_epochs=epochs,
        max_time=timedelta(minutes=max_minutes) if max_minutes else None,
        accelerator=accelerator,
        devices=devices,
        logger=CSVLogger(save_dir=str(out_dir), name=LOG_DIR),
        callbacks=[ckpt],
        enable_progress_bar=progress,
        enable_model_summary=progress,
        deterministic="warn",
        log_every_n_steps=5,
        limit_train_batches=limit_train_batches,
        limit_val_batches=limit_val_batches,
        num_sanity_val_steps=0,
    )
    return trainer, ckpt


@contextlib.contextmanager
def quiet_lightning(progress: bool) -> Iterator[None]:
    """Silence Lightning's hints that do not apply here (few DataLoader workers: data is in memory)."""
    logger = logging.getLogger("lightning.pytorch")
    level = logger.level
    if not progress:
        logger.setLevel(logging.WARNING)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", ".*does not have many workers.*")
        warnings.filterwarnings("ignore", ".*number of training batches.*smaller than the logging interval.*")
        warnings.filterwarnings("ignore", ".*deterministic.*")
        try:
            yield
        finally:
            logger.setLevel(level)


def loaders(
    train_ds: Dataset, val_ds: Dataset, batch_size: int, seed: int, drop_last: bool = True
) -> tuple[DataLoader, DataLoader]:
    """Seeded, shuffled training loader and an ordered validation loader. With ``drop_last`` a short last
    training batch is dropped, unless the whole set is smaller than one batch."""
    gen = torch.Generator().manual_seed(seed)
    drop = drop_last and len(train_ds) > batch_size
    train = DataLoader(train_ds, batch_size=batch_size, shuffle=True, generator=gen, drop_last=drop)
    return train, DataLoader(val_ds, batch_size=batch_size)


def fit(
    module: L.LightningModule,
    out_dir: Path,
    cfg: Any,
    train_loader: DataLoader,
    val_loader: DataLoader,
    resume_from: Path | None,
    progress: bool,
    started: float,
    callbacks: Sequence[L.Callback] = (),
    **limits: int | None,
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Train ``module`` with :func:`build_trainer` (``cfg`` gives epochs, max_minutes, accelerator, devices),
    resuming from ``resume_from``; then restore the best weights.

    Returns the model (CPU, eval mode) and the results every engine reports: minutes since ``started``
    (a ``time.perf_counter()`` value), epochs, steps, best validation loss and parameter count.
    ``limits`` are ``limit_train_batches`` / ``limit_val_batches``.
    """
    trainer, ckpt = build_trainer(
        out_dir, cfg.epochs, cfg.max_minutes, cfg.accelerator, cfg.devices, progress, **limits
    )
    trainer.callbacks.extend(callbacks)
    with quiet_lightning(progress):
        trainer.fit(module, train_loader, val_loader, ckpt_path=str(resume_from) if resume_from else None)
    model = load_best_weights(module, ckpt)
    return model, {
        "train_minutes": round((time.perf_counter() - started) / 60, 2),
        "epochs": trainer.current_epoch,
        "steps": trainer.global_step,
        "best_val_loss": float(ckpt.best_model_score) if ckpt.best_model_score is not None else None,
        "params": sum(p.numel() for p in model.parameters()),
    }


def write_training_plots(out_dir: Path, keys: Sequence[str] = ("loss", "recon", "kl")) -> None:
    """Training curves of ``keys`` from every logged run of ``out_dir`` into ``plots/training_curves.png``."""
    from moodtune.viz.plots import plot_training_curves, read_metrics

    metrics = read_metrics(sorted((out_dir / LOG_DIR).glob("version_*")))
    if metrics:
        plot_training_curves(metrics, out_dir / "plots" / "training_curves.png", keys)
