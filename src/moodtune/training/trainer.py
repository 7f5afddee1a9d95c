"""Lightning Trainer set-up shared by the engines: checkpoints, CSV metrics, time limit, resume."""

from __future__ import annotations

import contextlib
import json
import logging
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger

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
