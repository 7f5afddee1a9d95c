"""Lightning Trainer set-up shared by the families: checkpoints, CSV metrics, time limit, quiet output,
progress lines when the output is not a terminal."""

from __future__ import annotations

import contextlib
import logging
import math
import sys
import time
import warnings
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import lightning as L
import torch
from lightning.pytorch.callbacks import ModelCheckpoint
from lightning.pytorch.loggers import CSVLogger
from torch.utils.data import DataLoader, Dataset

from moodtune.errors import MoodtuneError
from moodtune.training.config import TrainConfig
from moodtune.training.distributed import world_size
from moodtune.viz.plots import plot_training_curves, read_metrics

CHECKPOINT_DIR = "checkpoints"
LOG_DIR = "logs"
LIGHTNING_LOGGERS = ("lightning.pytorch", "lightning.fabric", "lightning")


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


def load_best_weights(module: L.LightningModule, ckpt: ModelCheckpoint) -> torch.nn.Module:
    """Put the best (else last) checkpoint's weights into ``module.model``; returns it on the CPU in eval mode."""
    best = ckpt.best_model_path or ckpt.last_model_path
    if best:
        state = torch.load(best, map_location="cpu", weights_only=True)["state_dict"]
        module.model.load_state_dict({k.removeprefix("model."): v for k, v in state.items() if k.startswith("model.")})
    return module.model.cpu().eval()


class ProgressLines(L.Callback):
    """Progress for logs that are not a terminal: one line on stderr at most every ``every_s`` seconds
    (and at the end of each epoch when that much time has passed), with the latest logged losses."""

    def __init__(self, every_s: float = 30.0) -> None:
        self.every_s = every_s
        self.last = 0.0
        self.started = 0.0

    def on_train_start(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        self.started = self.last = time.perf_counter()
        if trainer.is_global_zero:
            print(f"training: up to {trainer.max_epochs} epochs, {_shape(trainer)}", file=sys.stderr, flush=True)

    def _line(self, trainer: L.Trainer, done: bool = False) -> str:
        metrics = {k: float(v) for k, v in trainer.callback_metrics.items() if k.endswith("loss")}
        losses = ", ".join(f"{k} {v:.4g}" for k, v in sorted(metrics.items()))
        minutes = (time.perf_counter() - self.started) / 60
        epoch = trainer.current_epoch if done else trainer.current_epoch + 1  # when done: the epochs completed
        return f"epoch {epoch}/{trainer.max_epochs}, step {trainer.global_step}, {minutes:.1f} min" + (
            f": {losses}" if losses else ""
        )

    def on_train_batch_end(self, trainer: L.Trainer, *args: Any) -> None:
        if trainer.is_global_zero and time.perf_counter() - self.last >= self.every_s:
            self.last = time.perf_counter()
            print(self._line(trainer), file=sys.stderr, flush=True)

    def on_train_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.is_global_zero:
            print(f"training done: {self._line(trainer, done=True)}", file=sys.stderr, flush=True)


def _shape(trainer: L.Trainer) -> str:
    """``N batches per epoch`` (per process, and how many processes share the data when there are several)."""
    batches = trainer.num_training_batches
    text = (
        f"{batches} batch{'es' if batches != 1 else ''} per epoch"
        if isinstance(batches, int)
        else "epoch length unknown"
    )
    if trainer.world_size > 1:
        text += f" on each of {trainer.world_size} processes (each sees 1/{trainer.world_size} of the data)"
    return text


def lightning_strategy(cfg: TrainConfig, find_unused_parameters: bool = False) -> str:
    """Lightning's name for ``cfg.strategy``; for a module some of whose parameters get no gradient in a
    backward pass (a GAN's generator during the discriminator's step), its DDP variant that allows it."""
    several = world_size(cfg) > 1 or cfg.strategy != "auto"
    if find_unused_parameters and several and cfg.strategy in ("auto", "ddp", "ddp_spawn"):
        return f"{'ddp' if cfg.strategy == 'auto' else cfg.strategy}_find_unused_parameters_true"
    return cfg.strategy


def build_trainer(
    out_dir: Path,
    cfg: TrainConfig,
    progress: bool = True,
    verbose: bool = False,
    find_unused_parameters: bool = False,
    monitor: str | None = "val/loss",
) -> tuple[L.Trainer, ModelCheckpoint]:
    """A Trainer writing ``checkpoints/{best,last}.ckpt`` and ``logs/version_N/metrics.csv`` under ``out_dir``.

    ``best.ckpt`` has the lowest ``monitor``; with ``monitor=None`` it is the latest epoch's. With ``progress``,
    a progress bar on a terminal and :class:`ProgressLines` otherwise; the model summary only with ``verbose``.
    """
    ckpt = ModelCheckpoint(
        dirpath=out_dir / CHECKPOINT_DIR,
        filename="best",
        monitor=monitor,
        mode="min",
        save_top_k=1,
        save_last=True,
        enable_version_counter=False,
    )
    terminal = sys.stderr.isatty()
    callbacks: list[L.Callback] = [ckpt]
    if progress and not terminal:
        callbacks.append(ProgressLines())
    trainer = L.Trainer(
        default_root_dir=str(out_dir),
        max_epochs=cfg.epochs,
        max_time=timedelta(minutes=cfg.max_minutes) if cfg.max_minutes else None,
        accelerator=cfg.accelerator,
        devices=cfg.devices,
        num_nodes=cfg.num_nodes,
        strategy=lightning_strategy(cfg, find_unused_parameters),
        precision=cfg.precision,
        logger=CSVLogger(save_dir=str(out_dir), name=LOG_DIR),
        callbacks=callbacks,
        enable_progress_bar=progress and terminal,
        enable_model_summary=verbose,
        deterministic="warn",
        log_every_n_steps=5,
        limit_train_batches=cfg.limit_train_batches,
        limit_val_batches=cfg.limit_val_batches,
        num_sanity_val_steps=0,
    )
    return trainer, ckpt


@contextlib.contextmanager
def quiet_lightning(verbose: bool) -> Iterator[None]:
    """Unless ``verbose``: no Lightning banners (accelerator availability, tips) and no library warnings that
    do not concern the user (few DataLoader workers: data is in memory; deprecations inside libraries)."""
    loggers = [logging.getLogger(name) for name in LIGHTNING_LOGGERS]
    levels = [lg.level for lg in loggers]
    if not verbose:
        for lg in loggers:
            lg.setLevel(logging.WARNING)
    with warnings.catch_warnings():
        if not verbose:
            warnings.filterwarnings("ignore", ".*does not have many workers.*")
            warnings.filterwarnings("ignore", ".*number of training batches.*smaller than the logging interval.*")
            warnings.filterwarnings("ignore", ".*deterministic.*")
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", category=FutureWarning)
            warnings.filterwarnings("ignore", ".*treespec.*")
            # per-step training metrics are the first process's on purpose (no all-reduce per step)
            warnings.filterwarnings("ignore", ".*sync_dist=True.*when logging on epoch level.*")
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels, strict=True):
                lg.setLevel(level)


def loaders(
    train_ds: Dataset, val_ds: Dataset, batch_size: int, drop_last: bool = True, processes: int = 1
) -> tuple[DataLoader, DataLoader]:
    """Seeded, shuffled training loader and an ordered validation loader. With ``drop_last`` a short last
    training batch is dropped, unless a process's share of the set (1/``processes`` of it) is smaller than one
    batch: a process must never be left with no batch at all.

    The shuffle draws from torch's global generator, which the recipe seeds: a loader holding its own
    ``torch.Generator`` cannot be sent to processes that ``--strategy ddp_spawn`` starts."""
    drop = drop_last and math.ceil(len(train_ds) / processes) > batch_size
    train = DataLoader(train_ds, batch_size=batch_size, shuffle=True, drop_last=drop)
    return train, DataLoader(val_ds, batch_size=batch_size)


def fit(
    module: L.LightningModule,
    out_dir: Path,
    cfg: TrainConfig,
    train_loader: DataLoader,
    val_loader: DataLoader | None,
    resume_from: Path | None,
    started: float,
    progress: bool = True,
    verbose: bool = False,
    callbacks: Sequence[L.Callback] = (),
    monitor: str | None = "val/loss",
) -> tuple[torch.nn.Module, dict[str, Any]] | None:
    """Train ``module`` with :func:`build_trainer`, resuming from ``resume_from``; then restore the best weights
    (the lowest ``monitor``; with ``monitor=None``, and no ``val_loader``, the last epoch's).

    Returns the model (CPU, eval mode) and ``train_minutes`` (since ``started``, a ``time.perf_counter()``
    value), ``epochs``, ``steps``, ``best_val_loss`` and ``params``; None in every process of a multi-process
    run but the first (global rank 0), which alone goes on to write the run's files.
    """
    with quiet_lightning(verbose):
        unused = getattr(module, "ddp_find_unused_parameters", False)
        trainer, ckpt = build_trainer(out_dir, cfg, progress, verbose, unused, monitor)
        trainer.callbacks.extend(callbacks)
        try:
            trainer.fit(
                module, train_loader, val_loader, ckpt_path=str(resume_from) if resume_from else None, weights_only=True
            )
        except SystemExit as exc:  # Lightning turns Ctrl+C into exit(1) after its own clean-up
            if trainer.interrupted:
                raise KeyboardInterrupt from exc
            raise
    if not trainer.is_global_zero:
        return None
    model = load_best_weights(module, ckpt)
    epochs, steps, best = trainer.current_epoch, trainer.global_step, ckpt.best_model_score
    if cfg.strategy == "ddp_spawn" and last_checkpoint(out_dir).is_file():  # the counters stayed in the workers
        epochs, steps, best = saved_counters(last_checkpoint(out_dir))
    return model, {
        "train_minutes": round((time.perf_counter() - started) / 60, 2),
        "epochs": epochs,
        "steps": steps,
        "best_val_loss": float(best) if best is not None else None,
        "params": sum(p.numel() for p in model.parameters()),
    }


def saved_counters(path: Path) -> tuple[int, int, torch.Tensor | None]:
    """Epochs completed, optimiser steps and the best monitored score recorded in a Lightning checkpoint."""
    saved = torch.load(path, map_location="cpu", weights_only=True)
    scores = [state.get("best_model_score") for state in saved.get("callbacks", {}).values() if isinstance(state, dict)]
    return saved["epoch"] + 1, saved["global_step"], next((s for s in scores if s is not None), None)


def write_training_plots(out_dir: Path, keys: Sequence[str] = ("loss", "recon", "kl")) -> None:
    """Training curves of those ``keys`` that were logged, from every logged run of ``out_dir``, into
    ``plots/training_curves.png``."""
    metrics = read_metrics(sorted((out_dir / LOG_DIR).glob("version_*")))
    logged = [k for k in keys if any(name.split("/", 1)[-1].startswith(k) for name in metrics)]
    if logged:
        plot_training_curves(metrics, out_dir / "plots" / "training_curves.png", logged)
