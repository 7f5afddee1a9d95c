"""The models a server offers: the shipped engines and the runs found under its models folder, each loaded once
on first use and kept for the life of the app."""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moodtune.api import load, load_mood_model
from moodtune.catalog import local_models, shipped_models
from moodtune.engines.base import Engine
from moodtune.engines.checkpoint import CONFIG_FILE
from moodtune.evaluation.mood_model import MoodModel
from moodtune.shipped import MOOD_MODEL

#: The style name a model uses for "no style given"; not offered as a choice.
NO_STYLE = "<unknown>"


@dataclass(frozen=True)
class ServedModel:
    """One model a client can pick: ``id`` is the shipped name, or ``local/<path under the models folder>``."""

    id: str
    engine: str
    path: Path
    shipped: bool
    default: bool = False
    summary: str = ""
    styles: tuple[str, ...] = ()
    control: dict[str, float] = field(default_factory=dict)

    @property
    def symbolic(self) -> bool:
        """Whether it writes MIDI and takes the symbolic engine's controls."""
        return self.engine == "symbolic"

    def describe(self) -> dict[str, Any]:
        """The JSON form of ``GET /api/models``."""
        return {
            "id": self.id,
            "engine": self.engine,
            "shipped": self.shipped,
            "default": self.default,
            "summary": self.summary,
            "styles": list(self.styles),
            "symbolic": self.symbolic,
            "control": self.control,
        }


def _styles(run: Path) -> tuple[str, ...]:
    if not (run / CONFIG_FILE).is_file():  # a FIFO would block the read
        return ()
    try:
        styles = json.loads((run / CONFIG_FILE).read_text()).get("styles") or []
    except (OSError, ValueError, AttributeError, RecursionError):
        return ()
    return tuple(str(s) for s in styles if s != NO_STYLE)


def find_models(shipped_dir: Path, models_dir: Path | None) -> list[ServedModel]:
    """The shipped engines (the default first), then every engine run under ``models_dir``; the mood model is
    the judge, not offered."""
    found = [
        ServedModel(
            e.name,
            e.engine,
            Path(e.where),
            True,
            e.default,
            str(e.extra.get("summary", "")),
            _styles(Path(e.where)),
            dict(e.control or {}),
        )
        for e in shipped_models(shipped_dir)
        if e.name != MOOD_MODEL
    ]
    found.sort(key=lambda m: not m.default)
    if models_dir is not None:
        for e in local_models(models_dir):
            if e.engine == MOOD_MODEL:
                continue
            run = Path(e.where)
            rel = run.relative_to(models_dir).as_posix()
            found.append(
                ServedModel(
                    f"local/{rel}",
                    e.engine,
                    run,
                    False,
                    False,
                    f"trained run {rel}",
                    _styles(run),
                    dict(e.control or {}),
                )
            )
    return found


class ModelLibrary:
    """The offered models by id, their engines loaded on first use (once, however many requests ask at the same
    time) and the mood model that measures every result."""

    def __init__(self, shipped_dir: Path, models_dir: Path | None = None) -> None:
        self.shipped_dir = shipped_dir
        self.models = {m.id: m for m in find_models(shipped_dir, models_dir)}
        self._engines: dict[str, Engine] = {}
        self._locks = {model_id: threading.Lock() for model_id in self.models}
        self._mood_lock = threading.Lock()
        self._mood_model: MoodModel | None = None

    @property
    def default_id(self) -> str | None:
        """The model used when a request names none."""
        return next((m.id for m in self.models.values() if m.default), next(iter(self.models), None))

    def engine(self, model_id: str) -> Engine:
        """The loaded engine of a known model id (KeyError for an unknown one)."""
        model = self.models[model_id]
        with self._locks[model_id]:
            if model_id not in self._engines:
                self._engines[model_id] = load(model.path)
            return self._engines[model_id]

    def is_loaded(self, model_id: str) -> bool:
        """Whether the engine is in memory already."""
        return model_id in self._engines

    @property
    def mood_model(self) -> MoodModel:
        """The shipped mood model, the judge that measures what was made."""
        with self._mood_lock:
            if self._mood_model is None:
                self._mood_model = load_mood_model(self.shipped_dir / MOOD_MODEL)
            return self._mood_model
