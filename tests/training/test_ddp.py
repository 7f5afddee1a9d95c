"""Two-process data-parallel training on the CPU (DDP over gloo), through the command line as a user runs it:
it finishes, one set of run files is written and one summary printed, each process trains on half the data,
the model loads and generates, and a resumed two-process run continues."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from moodtune.data.prepare import prepare
from moodtune.engines.base import Request, load_engine
from moodtune.engines.checkpoint import read_checkpoint_config
from moodtune.fsutil import TEMP_MARK
from moodtune.mood import Mood
from moodtune.registry import family, resolve
from moodtune.training.distributed import RANK_VARIABLES
from moodtune.training.recipe import recipe_for

OPTIONS = {
    "spectrogram": ["--latent-dim", "4", "--batch-size", "2"],
    "sequence": ["--steps", "4", "--batch-size", "2"],
    "symbolic": ["--batch-size", "16", "--seq-len", "16"],
}
RUN_FILES = ["checkpoints", "config.json", "logs", "model.safetensors", "plots", "train_config.json"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("ddp_data")
    prepare("builtin", None, out, clip_seconds=4.0, limit=3, workers=1, progress=False)
    return out


def train_on_two_processes(engine: str, data: Path, out: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "moodtune", "train", engine, "--data", str(data), "--out", str(out)]
    cmd += ["--accelerator", "cpu", "--devices", "2", "--strategy", "ddp", "--size", "debug", *OPTIONS[engine], *extra]
    launcher = (*RANK_VARIABLES, "WORLD_SIZE", "MASTER_PORT", "MASTER_ADDR", "TORCHELASTIC_RUN_ID")
    env = {k: v for k, v in os.environ.items() if k not in launcher and not k.startswith("SLURM_")}
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, env={**env, "OMP_NUM_THREADS": "1"})


def steps_per_epoch_on_each_of_two(engine: str, data: Path) -> int:
    """Optimiser steps one epoch takes when two processes share the training set."""
    cfg = resolve(family(engine).config)(data=str(data), out="unused", size="debug", **_kwargs(OPTIONS[engine]))
    setup = recipe_for(engine).setup(cfg, progress=False)
    share = math.ceil(len(setup.train) / 2)
    drop = setup.drop_last and len(setup.train) > cfg.batch_size
    return share // cfg.batch_size if drop else math.ceil(share / cfg.batch_size)


def _kwargs(options: list[str]) -> dict[str, int]:
    return {flag[2:].replace("-", "_"): int(value) for flag, value in zip(options[::2], options[1::2], strict=True)}


@pytest.mark.parametrize("engine", ["spectrogram", "symbolic"])
def test_two_processes_write_one_run_that_loads_and_resumes(engine: str, data: Path, tmp_path: Path) -> None:
    out = tmp_path / engine
    first = train_on_two_processes(engine, data, out, "--epochs", "1")
    assert first.returncode == 0, first.stderr[-3000:]
    assert first.stdout.count(f"trained {engine}") == 1, first.stdout  # one summary, not one per process
    assert "on each of 2 processes" in first.stderr
    stages = ["adversarial"] if engine == "spectrogram" else []  # the decoder's stage, on the first process alone
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES + stages)
    assert sorted(p.name for p in (out / "checkpoints").iterdir()) == ["best.ckpt", "last.ckpt"]
    assert len(list((out / "logs").iterdir())) == 1
    assert not [p for p in out.rglob("*") if TEMP_MARK in p.name]
    results = read_checkpoint_config(out)["results"]
    assert results["epochs"] == 1
    assert results["steps"] == steps_per_epoch_on_each_of_two(engine, data)  # each process saw half the data

    result = load_engine(out).generate(Request(mood=Mood.named("happy"), seconds=2.0, seed=0))
    assert np.isfinite(result.audio).all() and np.abs(result.audio).max() > 0

    resumed = train_on_two_processes(engine, data, out, "--epochs", "2", "--resume")
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    assert resumed.stdout.count(f"trained {engine}") == 1
    results = read_checkpoint_config(out)["results"]
    assert results["epochs"] == 2 and results["steps"] == 2 * steps_per_epoch_on_each_of_two(engine, data)
    assert len(list((out / "logs").iterdir())) == 2
    load_engine(out).generate(Request(mood=Mood.named("sad"), seconds=2.0, seed=1))


def test_a_gan_trains_on_two_processes(data: Path, tmp_path: Path) -> None:
    """The sequence engine's discriminator step gives the generator no gradient: DDP must be told so."""
    vae = train_on_two_processes("spectrogram", data, tmp_path / "vae", "--epochs", "1")
    assert vae.returncode == 0, vae.stderr[-3000:]
    run = train_on_two_processes("sequence", data, tmp_path / "seq", "--epochs", "1", "--vae", str(tmp_path / "vae"))
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.count("trained sequence") == 1
    load_engine(tmp_path / "seq").generate(Request(mood=Mood.named("calm"), seconds=2.0, seed=0))
