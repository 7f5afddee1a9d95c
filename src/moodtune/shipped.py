"""The models shipped inside the package (``moodtune/pretrained/``), found by name.

``make models`` trains them on the built-in corpus and writes each as an ordinary checkpoint folder
(``config.json`` + ``model.safetensors`` in float16) beside ``index.json``, which names the default
engine and records each model's measured mood control. Engines built on another shipped model (the
sequence and latent engines on the spectrogram VAE) store only their own weights; their config says
which shipped model supplies the rest (:data:`WEIGHTS_FROM`), and loading fills them in.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from moodtune.errors import MoodtuneError

#: Where the shipped models live.
SHIPPED_DIR = Path(__file__).parent / "pretrained"
INDEX_FILE = "index.json"
#: The shipped mood model's name (the judge of ``analyze`` and ``evaluate``); every other entry is an engine.
MOOD_MODEL = "mood"
#: Config key of a checkpoint whose weights under a prefix come from a shipped model: ``{"vae.": "spectrogram"}``.
WEIGHTS_FROM = "weights_from"


@cache
def _index(folder: Path) -> dict[str, Any]:
    path = folder / INDEX_FILE
    if not path.is_file():
        return {"default": None, "models": {}}
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise MoodtuneError(f"{path}: corrupt index of the shipped models ({exc}); reinstall moodtune") from exc


def shipped_index(folder: Path = SHIPPED_DIR) -> dict[str, Any]:
    """``{"default": engine name, "models": {name: {"engine", "summary", "metrics", ...}}}`` (empty when none)."""
    return _index(folder)


def shipped_names(folder: Path = SHIPPED_DIR) -> list[str]:
    """Names of the shipped models, the mood model included."""
    return list(shipped_index(folder)["models"])


def shipped_engines(folder: Path = SHIPPED_DIR) -> list[str]:
    """Names of the shipped engines (every shipped model but the mood model)."""
    return [n for n in shipped_names(folder) if n != MOOD_MODEL]


def shipped_path(name: str, folder: Path = SHIPPED_DIR) -> Path:
    """The checkpoint folder of the shipped model ``name``; MoodtuneError names the shipped ones."""
    names = shipped_names(folder)
    if name not in names:
        known = ", ".join(names) if names else "none are installed (run 'make models' in a source checkout)"
        raise MoodtuneError(f"no shipped model called {name!r}; shipped models: {known}")
    return folder / name


def default_engine(folder: Path = SHIPPED_DIR) -> str:
    """The shipped engine with the best measured mood control (named in the index by ``make models``)."""
    name = shipped_index(folder).get("default")
    if not name:
        raise MoodtuneError(
            "no shipped models are installed: give --checkpoint RUN (a folder made by 'moodtune train'), "
            "or run 'make models' in a source checkout"
        )
    return str(name)


def resolve_model(name_or_path: str | os.PathLike[str], folder: Path = SHIPPED_DIR) -> Path:
    """A shipped model's folder when ``name_or_path`` is a shipped name and no such path exists, else the path."""
    text = str(name_or_path)
    if not Path(text).exists() and os.sep not in text and text in shipped_names(folder):
        return folder / text
    return Path(text)
