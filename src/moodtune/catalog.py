"""What models there are: the shipped ones and the runs under a local folder, with their measured mood control.

A local run's mood control comes from the newest ``moodtune evaluate`` report under the same folder that
names it as its checkpoint; a run nobody evaluated has none.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moodtune.engines.checkpoint import CONFIG_FILE, WEIGHTS_FILE
from moodtune.shipped import MOOD_MODEL, SHIPPED_DIR, shipped_index

#: Report keys of the mood control shown for each model.
CONTROL_KEYS = ("quadrant_accuracy", "arousal_r", "valence_r", "diversity_vs_real")


@dataclass
class ModelEntry:
    """One model: its name (shipped) or folder (local), engine, size and measured mood control (None: not measured)."""

    name: str
    engine: str
    where: str
    shipped: bool
    megabytes: float
    control: dict[str, float] | None = None
    default: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _size_mb(folder: Path) -> float:
    return round(sum(f.stat().st_size for f in folder.iterdir() if f.is_file()) / 1e6, 1)


def shipped_models(folder: Path = SHIPPED_DIR) -> list[ModelEntry]:
    """The shipped models (the mood model last), as listed in their index."""
    index = shipped_index(folder)
    out = []
    for name, info in index["models"].items():
        metrics = info.get("metrics") or {}
        control = {k: metrics[k] for k in CONTROL_KEYS if k in metrics} if name != MOOD_MODEL else None
        out.append(
            ModelEntry(
                name,
                str(info.get("engine")),
                str(folder / name),
                True,
                _size_mb(folder / name),
                control or None,
                name == index.get("default"),
                {"summary": info.get("summary", "")},
            )
        )
    return sorted(out, key=lambda e: e.name == MOOD_MODEL)


def _reports(root: Path) -> dict[Path, dict[str, float]]:
    """``checkpoint folder -> mood control`` from the evaluation reports under ``root`` (newest wins)."""
    found: dict[Path, tuple[float, dict[str, float]]] = {}
    for report in root.rglob("report.json"):
        try:
            data = json.loads(report.read_text())
            row = data["rows"][0]
            named = Path(data["checkpoint"])
        except (OSError, ValueError, KeyError, IndexError, TypeError):
            continue
        # a relative checkpoint is relative to where evaluate ran: the current folder, or above the report
        candidates = [named, *(parent / named for parent in report.parents)] if not named.is_absolute() else [named]
        checkpoint = next((c for c in candidates if (c / WEIGHTS_FILE).is_file()), named).resolve()
        mtime = report.stat().st_mtime
        if checkpoint not in found or found[checkpoint][0] < mtime:
            found[checkpoint] = (mtime, {k: row[k] for k in CONTROL_KEYS if k in row})
    return {k: v for k, (_, v) in found.items()}


def local_models(root: str | os.PathLike[str]) -> list[ModelEntry]:
    """Every trained run (a folder with ``config.json`` and ``model.safetensors``) under ``root``."""
    base = Path(root)
    if not base.is_dir():
        return []
    reports = _reports(base)
    out = []
    for config in sorted(base.rglob(CONFIG_FILE)):
        run = config.parent
        if not config.is_file() or not (run / WEIGHTS_FILE).is_file():  # a FIFO or a folder is no config
            continue
        try:
            engine = str(json.loads(config.read_text()).get("engine"))
        except (OSError, ValueError, AttributeError, RecursionError):
            continue
        out.append(ModelEntry(str(run), engine, str(run), False, _size_mb(run), reports.get(run.resolve())))
    return out
