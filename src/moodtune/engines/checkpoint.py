"""Exported checkpoints: ``model.safetensors`` (weights) + ``config.json`` (everything else).

``config.json`` carries the format version, the engine name, the package version, the full
model and feature configuration, the label vocabularies and the training configuration, so a
checkpoint folder is all ``moodtune generate --checkpoint`` needs.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load_file, save_file

from moodtune import __version__
from moodtune.errors import MoodtuneError
from moodtune.fsutil import atomic_path, write_json_atomic

FORMAT_VERSION = 1
WEIGHTS_FILE = "model.safetensors"
CONFIG_FILE = "config.json"


def save_checkpoint(
    out_dir: str | os.PathLike[str], engine: str, state: dict[str, torch.Tensor], config: dict[str, Any]
) -> Path:
    """Write weights and config atomically into ``out_dir``; returns the folder."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / WEIGHTS_FILE) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, str(tmp))
    write_json_atomic(
        out / CONFIG_FILE, {"format": FORMAT_VERSION, "engine": engine, "moodtune_version": __version__, **config}
    )
    return out


def resolve_checkpoint(path: str | os.PathLike[str]) -> Path:
    """The checkpoint folder for a run folder, its config.json or its model.safetensors."""
    p = Path(path)
    if p.is_file() and p.name in (CONFIG_FILE, WEIGHTS_FILE):
        p = p.parent
    if not p.exists():
        raise MoodtuneError(f"checkpoint not found: {p}")
    if not (p / CONFIG_FILE).is_file() or not (p / WEIGHTS_FILE).is_file():
        raise MoodtuneError(
            f"{p}: not a moodtune checkpoint (expected {CONFIG_FILE} and {WEIGHTS_FILE}); was training finished?"
        )
    return p


def read_checkpoint_config(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The config of a checkpoint, after checking its format version."""
    folder = resolve_checkpoint(path)
    try:
        config = json.loads((folder / CONFIG_FILE).read_text())
    except json.JSONDecodeError as exc:
        raise MoodtuneError(f"{folder / CONFIG_FILE}: corrupt checkpoint config ({exc})") from exc
    fmt = config.get("format")
    if fmt != FORMAT_VERSION:
        raise MoodtuneError(
            f"{folder}: checkpoint format {fmt!r} (written by moodtune {config.get('moodtune_version', '?')}) is not "
            f"supported by moodtune {__version__}, which reads format {FORMAT_VERSION}"
        )
    return config


def load_checkpoint(
    path: str | os.PathLike[str], engine: str | None = None
) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """``(state_dict, config)`` of a checkpoint; refuses a checkpoint of another engine when ``engine`` is given."""
    config = read_checkpoint_config(path)
    if engine is not None and config.get("engine") != engine:
        raise MoodtuneError(f"{path}: a {config.get('engine')!r} checkpoint, not a {engine!r} one")
    return load_file(str(resolve_checkpoint(path) / WEIGHTS_FILE)), config
