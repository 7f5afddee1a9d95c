"""Exported checkpoints: ``model.safetensors`` (weights) + ``config.json`` (everything else).

``config.json`` carries the format version, the engine name, the package version, the full
model and feature configuration, the label vocabularies and the training configuration, so a
checkpoint folder is all ``moodtune generate --checkpoint`` needs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
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
#: The config key holding the SHA-256 of the weights file, checked at load.
SHA_KEY = "weights_sha256"


def file_sha256(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file, read in 1 MB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def save_checkpoint(
    out_dir: str | os.PathLike[str], engine: str, state: dict[str, torch.Tensor], config: dict[str, Any]
) -> Path:
    """Write weights and config atomically into ``out_dir`` (the config records the weights' SHA-256); returns
    the folder."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with atomic_path(out / WEIGHTS_FILE) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in state.items()}, str(tmp))
        sha = file_sha256(tmp)
    head = {"format": FORMAT_VERSION, "engine": engine, "moodtune_version": __version__}
    write_json_atomic(out / CONFIG_FILE, {**head, **config, SHA_KEY: sha})
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
        config = json.loads((folder / CONFIG_FILE).read_text(encoding="utf-8"))
    except (ValueError, OSError, RecursionError) as exc:  # JSON and UTF-8 decoding errors are ValueErrors;
        # brackets nested thousands deep exhaust the parser's recursion
        raise MoodtuneError(f"{folder / CONFIG_FILE}: corrupt checkpoint config ({type(exc).__name__})") from exc
    if not isinstance(config, dict):
        raise MoodtuneError(f"{folder / CONFIG_FILE}: corrupt checkpoint config (a JSON object expected)")
    fmt = config.get("format")
    if isinstance(fmt, int) and not isinstance(fmt, bool) and fmt > FORMAT_VERSION:
        raise MoodtuneError(
            f"{folder}: checkpoint format {fmt}, written by moodtune {config.get('moodtune_version', '?')}, is newer "
            f"than moodtune {__version__} reads (format {FORMAT_VERSION}): upgrade moodtune to use it"
        )
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
    if not isinstance(config.get(SHA_KEY), str):
        raise MoodtuneError(
            f"{folder / CONFIG_FILE}: records no {SHA_KEY}, so its weights cannot be checked; a checkpoint written "
            "by moodtune records it"
        )
    state = read_weights(folder / WEIGHTS_FILE, config.get(SHA_KEY))
    for prefix, name in config.get(WEIGHTS_FROM, {}).items():
        state.update({prefix + k: v for k, v in load_checkpoint(_sibling(folder, name))[0].items()})
    return {k: v.float() if v.dtype == torch.float16 else v for k, v in state.items()}, config


@contextlib.contextmanager
def fitting(path: str | os.PathLike[str], name: str) -> Iterator[None]:
    """Turn the errors of building a model from a checkpoint whose config or weights do not fit it (a missing
    key, an edited size, a mangled value) into one MoodtuneError naming the checkpoint."""
    try:
        yield
    except MoodtuneError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, RuntimeError) as exc:
        detail = str(exc).splitlines()[0][:160] if str(exc) else "no detail"
        raise MoodtuneError(
            f"{path}: this {name} checkpoint does not fit the {name} model ({type(exc).__name__}: {detail}); "
            "was it edited or cut short?"
        ) from exc


def read_weights(path: Path, sha256: str | None = None) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file (never code), after checking its SHA-256 when one is recorded."""
    if sha256 is not None and file_sha256(path) != sha256:
        raise MoodtuneError(
            f"{path}: corrupt weights (their SHA-256 differs from the one recorded in {CONFIG_FILE} at training)"
        )
    try:
        return load_file(str(path))
    except Exception as exc:  # safetensors raises its own error types, OSError and ValueError on bad files
        raise MoodtuneError(f"{path}: corrupt weights file ({type(exc).__name__}: {str(exc)[:120]})") from exc


def _sibling(folder: Path, name: str) -> Path:
    """The model ``name`` shipped beside the one in ``folder`` (shipped models live side by side); a name, never a
    path, so a checkpoint cannot reach outside the folder of models it lies in."""
    if not isinstance(name, str) or Path(name).name != name or name in ("", ".", ".."):
        raise MoodtuneError(
            f"{folder}: takes weights from {name!r}; only the name of a model beside it is allowed, not a path"
        )
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
    body = {k: v for k, v in config.items() if k not in ("format", "engine", "moodtune_version", SHA_KEY)}
    return save_checkpoint(out_dir, str(config["engine"]), kept, {**body, **extra})
