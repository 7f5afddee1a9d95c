"""One training recipe for every family, with per-family hooks.

:func:`train` does what every run does: check (or resume) the run folder, seed, let the family's
:class:`Recipe` build its datasets and LightningModule, write ``train_config.json``, fit with Lightning,
let the recipe finish (latent prior, held-out evaluation, plots and samples), export ``model.safetensors`` +
``config.json``, draw the training curves, and return a :class:`TrainResult`.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Generic, TypeVar

import lightning as L
import torch
from torch import nn
from torch.utils.data import Dataset

from moodtune.engines.checkpoint import save_checkpoint
from moodtune.fsutil import clean_stale_temps, write_json_atomic
from moodtune.registry import family, resolve
from moodtune.training.config import TrainConfig, from_saved
from moodtune.training.distributed import check_hardware, world_size, writes_run
from moodtune.training.result import TrainResult
from moodtune.training.trainer import check_run_folder, fit, loaders, write_training_plots

C = TypeVar("C", bound=TrainConfig)

TRAIN_CONFIG_FILE = "train_config.json"


@dataclass
class Setup:
    """What a recipe prepares before fitting: the module, the datasets, what the checkpoint must record
    (``run_config``: model config, vocabularies...), callbacks, and anything :meth:`Recipe.finish` needs."""

    module: L.LightningModule
    train: Dataset
    val: Dataset
    run_config: dict[str, Any]
    drop_last: bool = True
    callbacks: list[L.Callback] = field(default_factory=list)
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class Finished:
    """What a recipe hands back after fitting: the weights to export, its metrics, extra checkpoint config."""

    state: dict[str, torch.Tensor]
    metrics: dict[str, Any] = field(default_factory=dict)
    config: dict[str, Any] = field(default_factory=dict)


class Recipe(ABC, Generic[C]):
    """A family's hooks into :func:`train`."""

    #: Logged metrics drawn in ``plots/training_curves.png``.
    plot_keys: tuple[str, ...] = ("loss", "recon", "kl")

    @abstractmethod
    def setup(self, cfg: C, progress: bool) -> Setup:
        """Read the data and build the datasets and the LightningModule."""

    @abstractmethod
    def finish(self, cfg: C, setup: Setup, model: nn.Module, out: Path) -> Finished:
        """After fitting (``model`` holds the best weights, on the CPU): prior, held-out scores, plots."""


def recipe_for(engine: str) -> Recipe:
    """The registered recipe of a family."""
    return resolve(family(engine).recipe)()


def train(
    cfg: TrainConfig, progress: bool = True, verbose: bool = False, given: frozenset[str] | None = None
) -> TrainResult | None:
    """Train the family ``cfg`` belongs to into ``cfg.out``; returns what it measured. ``given``: the options the
    user set (a resumed run refuses those that differ from the run's own; None: those that differ from the
    defaults).

    With several devices or nodes every process trains on its share of the data; the first process (global rank
    0) alone writes the run folder, fits what follows training and returns the result; the others return None.
    """
    started = time.perf_counter()
    recipe = recipe_for(cfg.engine)
    out = Path(cfg.out)
    resume_from = check_run_folder(out, cfg.resume)
    if cfg.resume:
        cfg = from_saved(cfg, json.loads((out / TRAIN_CONFIG_FILE).read_text())["train"], given)
    check_hardware(cfg)
    primary = writes_run(cfg)
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    setup = recipe.setup(cfg, progress and primary)
    run_config = {"engine": cfg.engine, "train": cfg.to_dict(), **setup.run_config}
    if primary:
        out.mkdir(parents=True, exist_ok=True)
        clean_stale_temps(out)
        write_json_atomic(out / TRAIN_CONFIG_FILE, run_config)
    train_loader, val_loader = loaders(setup.train, setup.val, cfg.batch_size, setup.drop_last, world_size(cfg))
    fitted = fit(
        setup.module, out, cfg, train_loader, val_loader, resume_from, started, progress, verbose, setup.callbacks
    )
    if fitted is None:  # another process of a multi-process run: the first one writes the run
        return None
    model, counts = fitted
    finished = recipe.finish(cfg, setup, model, out)
    result = TrainResult(engine=cfg.engine, out=str(out), metrics=finished.metrics, **counts)
    save_checkpoint(
        out, cfg.engine, finished.state, {**run_config, **finished.config, "data": cfg.data, "results": result.flat()}
    )
    write_training_plots(out, recipe.plot_keys)
    return result
