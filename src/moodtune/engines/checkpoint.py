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
from moodtune.shipped import WEIGHTS_FROM, resolve_model, shipped_names

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
    """The checkpoint folder for a run folder, its config.json or its model.safetensors, or a shipped model's name."""
    p = resolve_model(path)
    if p.is_file() and p.name in (CONFIG_FILE, WEIGHTS_FILE):
        p = p.parent
    if not p.exists():
        shipped = ", ".join(shipped_names()) or "none installed"
        raise MoodtuneError(f"checkpoint not found: {p} (neither a run folder nor a shipped model; shipped: {shipped})")
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
    """``(state_dict, config)`` of a checkpoint; refuses a checkpoint of another engine when ``engine`` is given.

    Half-precision tensors (as shipped) come back as float32; weights the config takes from a shipped model
    (:data:`~moodtune.shipped.WEIGHTS_FROM`, a model in a sibling folder) are filled in under their prefix.
    """
    config = read_checkpoint_config(path)
    if engine is not None and config.get("engine") != engine:
        raise MoodtuneError(f"{path}: a {config.get('engine')!r} checkpoint, not a {engine!r} one")
    folder = resolve_checkpoint(path)
    state = load_file(str(folder / WEIGHTS_FILE))
    for prefix, name in config.get(WEIGHTS_FROM, {}).items():
        state.update({prefix + k: v for k, v in load_checkpoint(_sibling(folder, name))[0].items()})
    return {k: v.float() if v.dtype == torch.float16 else v for k, v in state.items()}, config


def _sibling(folder: Path, name: str) -> Path:
    """The model ``name`` shipped beside the one in ``folder`` (shipped models live side by side)."""
    sibling = folder.parent / name
    if not (sibling / WEIGHTS_FILE).is_file():
        raise MoodtuneError(
            f"{folder}: takes weights from the model {name!r}, which is not beside it in {folder.parent}"
        )
    return sibling


def save_shipped(
    run: str | os.PathLike[str], out_dir: str | os.PathLike[str], weights_from: dict[str, str] | None = None
) -> Path:
    """Copy the checkpoint ``run`` into ``out_dir`` with float tensors in float16, leaving out the weights under
    each prefix of ``weights_from`` (``{"vae.": "spectrogram"}``: on loading, taken from the model in the sibling
    folder of that name, which must already be there and hold the same weights)."""
    state, config = load_checkpoint(run)
    prefixes = tuple(weights_from or {})
    for prefix, name in (weights_from or {}).items():
        theirs = {prefix + k: v for k, v in load_checkpoint(_sibling(Path(out_dir), name))[0].items()}
        ours = {k: v for k, v in state.items() if k.startswith(prefix)}
        same = theirs.keys() == ours.keys() and all(
            torch.allclose(v.float(), ours[k].float(), rtol=1e-2, atol=1e-3) for k, v in theirs.items()
        )
        if not same:
            raise MoodtuneError(f"{run}: its {prefix}* weights are not those of the shipped {name!r} model")
    kept = {
        k: v.half() if v.is_floating_point() else v
        for k, v in state.items()
        if not (prefixes and k.startswith(prefixes))
    }
    extra = {WEIGHTS_FROM: dict(weights_from)} if weights_from else {}
    body = {k: v for k, v in config.items() if k not in ("format", "engine", "moodtune_version")}
    return save_checkpoint(out_dir, str(config["engine"]), kept, {**body, **extra})
