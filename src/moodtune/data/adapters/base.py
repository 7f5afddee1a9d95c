"""What every adapter provides: discovery of track jobs, and their materialisation into audio."""

from __future__ import annotations

import hashlib
import json
import os
import re
from abc import ABC, abstractmethod
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from moodtune.errors import DatasetError


@dataclass
class TrackJob:
    """One track of a dataset, cheap to discover and picklable; processed by one worker.

    ``va_curve`` holds per-second ``[valence, arousal]`` for the whole track (``None`` entries
    where unknown), when the dataset has dynamic annotations.
    """

    track_id: str
    path: str
    style: str
    source: str
    valence: float | None = None
    arousal: float | None = None
    va_curve: list[list[float | None]] | None = None
    options: dict[str, Any] = field(default_factory=dict)

    def key(self, params: dict[str, Any]) -> str:
        """Hash of everything that determines this job's output: fields, input file state, ``params``."""
        st = os.stat(self.path) if os.path.exists(self.path) else None
        state = (st.st_size, st.st_mtime_ns) if st else None
        text = json.dumps([asdict(self), state, params], sort_keys=True, default=str)
        return hashlib.sha1(text.encode()).hexdigest()[:16]


@dataclass
class Recording:
    """Audio of one track (or of one rendered variant of it), ready to be cut into clips.

    ``audio`` is mono float32 ``[T]`` at ``sr`` (the feature rate); ``path`` is the file the
    manifest points to, whose native rate is ``native_sr``.
    """

    audio: np.ndarray
    sr: int
    path: str
    native_sr: int
    valence: float | None
    arousal: float | None
    va_curve: list[list[float | None]] | None = None
    midi_path: str = ""
    variant: str = ""
    tonic: int = -1  # pitch class of the key the rendering was written in (builtin); -1 unknown


@dataclass
class Score:
    """A MIDI rendering kept without audio (``prepare --midi-only``): one manifest row for the symbolic engine."""

    midi_path: str
    seconds: float
    valence: float
    arousal: float
    variant: str
    tonic: int = -1  # pitch class of the key the rendering was written in; -1 unknown


@dataclass
class Context:
    """Settings shared by all jobs of one prepare run."""

    out_dir: Path
    sr: int
    clip_seconds: float
    soundfont: str
    seed: int
    midi_only: bool = False


@dataclass
class Discovery:
    """Jobs found, plus inputs skipped already at discovery (with reasons)."""

    jobs: list[TrackJob]
    skipped: list[dict[str, str]] = field(default_factory=list)


class Adapter(ABC):
    """A dataset adapter. Subclasses are plain picklable objects (they travel to worker processes)."""

    name: str = ""

    @abstractmethod
    def discover(self, limit: int | None) -> Discovery:
        """Find the dataset's tracks (at most ``limit``); raise DatasetError for missing annotation files."""

    @abstractmethod
    def materialize(self, job: TrackJob, ctx: Context) -> list[Recording]:
        """Load or render the job's audio; raise a MoodtuneError subclass to skip it with a reason."""

    def scores(self, job: TrackJob, ctx: Context) -> list[Score]:
        """Write the job's MIDI renderings without audio (``--midi-only``); DatasetError where the adapter has none."""
        raise DatasetError(f"the {self.name} dataset has no MIDI-only form; --midi-only applies to builtin")

    def params(self) -> dict[str, Any]:
        """Adapter settings that change its output (part of every job key)."""
        return {}


def read_csv_columns(path: Path, required: tuple[str, ...], what: str) -> Any:
    """Read a CSV (header names stripped of spaces); DatasetError names the file and the expected columns."""
    import pandas as pd

    expected = f"expected columns {', '.join(required)}"
    if not path.is_file():
        raise DatasetError(f"{path}: {what} not found; {expected}")
    try:
        df = pd.read_csv(path, skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError, OSError) as exc:
        detail = " ".join(str(exc).split()) or type(exc).__name__
        raise DatasetError(f"{path}: cannot read {what} ({detail}); {expected}") from exc
    df.columns = [str(c).strip() for c in df.columns]
    missing = [c for c in required if c not in df.columns]
    if missing:
        found = ", ".join(df.columns[:8]) + (", ..." if len(df.columns) > 8 else "")
        raise DatasetError(f"{path}: {what} lacks column(s) {', '.join(missing)}; {expected} (found {found})")
    return df


def numeric_columns(df: Any, path: Path, columns: tuple[str, ...], what: str) -> Any:
    """``df`` with ``columns`` as numbers (empty cells stay NaN); DatasetError names the file, line, column and value
    of the first cell that is not a number."""
    import pandas as pd

    for col in columns:
        if list(df.columns).count(col) > 1:
            raise DatasetError(f"{path}: {what}: column {col} appears more than once; expected one of each")
        raw = df[col]
        values = pd.to_numeric(raw, errors="coerce")
        bad = values.isna() & raw.notna() & (raw.astype(str).str.strip() != "")
        if bad.any():
            row = int(bad.to_numpy().argmax())
            raise DatasetError(
                f"{path}: {what}, line {row + 2}, column {col}: {str(raw.iloc[row]).strip()!r} is not a number; "
                f"expected columns {', '.join(columns)} with numbers"
            )
        df[col] = values
    return df


def slug(text: str) -> str:
    """File-name-safe version of an id."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


def files_with_suffix(root: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """All files under ``root`` (recursive, sorted) whose suffix is in ``suffixes`` (case-insensitive)."""
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in suffixes)


def style_from_folder(path: Path, root: Path, default: str) -> str:
    """First sub-folder of ``path`` below ``root``, or ``default`` for files directly in ``root``."""
    rel = path.relative_to(root).parts
    return rel[0] if len(rel) > 1 else default


def limited(items: list[Any], limit: int | None) -> list[Any]:
    """The first ``limit`` items (all when ``limit`` is None)."""
    return items if limit is None else items[:limit]
