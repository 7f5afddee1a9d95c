"""DEAM as distributed: MEMD_audio/<song_id>.mp3, static 1-9 annotations, dynamic 2 Hz curves.

Static ratings map to [-1, 1] by ``(x - 5) / 4``. The dynamic files (``arousal.csv``,
``valence.csv``: one row per song, columns ``sample_15000ms``, ``sample_15500ms``, ...) are
averaged per second; each clip carries its slice of that curve.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd

from moodtune.data.adapters.audio_files import AudioFileAdapter
from moodtune.data.adapters.base import Discovery, TrackJob, limited, numeric_columns, read_csv_columns
from moodtune.errors import DatasetError

STATIC_FILES = ("static_annotations_averaged_songs_1_2000.csv", "static_annotations_averaged_songs_2000_2058.csv")
DYNAMIC_FILES = ("valence.csv", "arousal.csv")
STATIC_COLUMNS = ("song_id", "valence_mean", "arousal_mean")
_SAMPLE_COLUMN = re.compile(r"^sample_(\d+)ms$")


def _find(root: Path, name: str) -> Path | None:
    """The file called ``name`` under ``root``; among several, prefer an 'averaged' folder, then the shallowest."""
    hits = sorted(root.rglob(name), key=lambda p: ("averaged" not in str(p).lower(), len(p.parts), str(p)))
    return hits[0] if hits else None


def read_static(paths: list[Path]) -> dict[int, tuple[float, float]]:
    """song_id -> (valence, arousal) in [-1, 1] from the static 1-9 files (columns selected by name)."""
    labels: dict[int, tuple[float, float]] = {}
    for path in paths:
        df = numeric_columns(
            read_csv_columns(path, STATIC_COLUMNS, "DEAM static annotations"),
            path,
            STATIC_COLUMNS,
            "DEAM static annotations",
        )
        for sid, v, a in zip(df["song_id"], df["valence_mean"], df["arousal_mean"], strict=True):
            if pd.isna(sid) or pd.isna(v) or pd.isna(a):
                continue
            labels[int(sid)] = (_scale(float(v)), _scale(float(a)))
    return labels


def _scale(x: float) -> float:
    return float(np.clip((x - 5.0) / 4.0, -1.0, 1.0))


def read_dynamic(path: Path) -> dict[int, list[float | None]]:
    """song_id -> per-second mean of the 2 Hz curve (index = second; None where no sample)."""
    df = read_csv_columns(path, ("song_id",), "DEAM dynamic annotations")
    df = numeric_columns(df, path, ("song_id",), "DEAM dynamic annotations")
    sample_cols = [(c, int(m.group(1))) for c in df.columns if (m := _SAMPLE_COLUMN.match(c))]
    if not sample_cols:
        raise DatasetError(
            f"{path}: DEAM dynamic annotations lack sample_<N>ms columns; expected song_id, sample_15000ms, ..."
        )
    seconds = np.array([ms // 1000 for _, ms in sample_cols])
    n_sec = int(seconds.max()) + 1
    values = df[[c for c, _ in sample_cols]].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=np.float64)
    curves: dict[int, list[float | None]] = {}
    for sid, row in zip(df["song_id"], values, strict=True):
        if pd.isna(sid):
            continue
        sums = np.bincount(seconds, weights=np.nan_to_num(row), minlength=n_sec)
        counts = np.bincount(seconds, weights=~np.isnan(row), minlength=n_sec)
        per_sec = [round(float(s / c), 5) if c > 0 else None for s, c in zip(sums, counts, strict=True)]
        while per_sec and per_sec[-1] is None:
            per_sec.pop()
        curves[int(sid)] = per_sec
    return curves


class DeamAdapter(AudioFileAdapter):
    """DEAM (Database for Emotional Analysis of Music)."""

    name = "deam"

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise DatasetError(f"{root}: not a folder")
        self.root = root
        audio_dirs = sorted((p for p in root.rglob("MEMD_audio") if p.is_dir()), key=lambda p: len(p.parts))
        if not audio_dirs:
            raise DatasetError(f"{root}: no MEMD_audio folder found (expected MEMD_audio/<song_id>.mp3)")
        self.audio_dir = audio_dirs[0]
        self.static_paths = []
        for name in STATIC_FILES:
            found = _find(root, name)
            if found is None:
                raise DatasetError(
                    f"{root}: required annotation file {name} not found; expected columns {', '.join(STATIC_COLUMNS)}"
                )
            self.static_paths.append(found)
        dyn = {name: _find(root, name) for name in DYNAMIC_FILES}
        present = [n for n, p in dyn.items() if p is not None]
        if len(present) == 1:
            missing = next(n for n in DYNAMIC_FILES if n not in present)
            raise DatasetError(
                f"{root}: {present[0]} found but {missing} is missing (dynamic annotations come in pairs)"
            )
        self.dynamic_paths = dyn if len(present) == 2 else None

    def discover(self, limit: int | None) -> Discovery:
        static = read_static(self.static_paths)
        curves_v: dict[int, list[float | None]] = {}
        curves_a: dict[int, list[float | None]] = {}
        if self.dynamic_paths:
            curves_v = read_dynamic(self.dynamic_paths["valence.csv"])
            curves_a = read_dynamic(self.dynamic_paths["arousal.csv"])
        jobs, skipped = [], []
        files = sorted(
            self.audio_dir.glob("*.mp3"),
            key=lambda p: (not p.stem.isdigit(), int(p.stem) if p.stem.isdigit() else 0, p.name),
        )
        for f in files:
            if not f.stem.isdigit():
                skipped.append({"path": str(f), "reason": "file name is not <song_id>.mp3"})
                continue
            sid = int(f.stem)
            if sid not in static:
                skipped.append(
                    {"path": str(f), "reason": f"no annotation row for song {sid} in the static annotation files"}
                )
                continue
            v, a = static[sid]
            curve = _pair_curves(curves_v.get(sid), curves_a.get(sid))
            jobs.append(TrackJob(f"deam/{sid}", str(f), "deam", self.name, v, a, curve))
        if not jobs:
            raise DatasetError(f"{self.audio_dir}: no annotated <song_id>.mp3 files found")
        return Discovery(limited(jobs, limit), skipped)


def _pair_curves(v: list[float | None] | None, a: list[float | None] | None) -> list[list[float | None]] | None:
    if not v and not a:
        return None
    v, a = v or [], a or []
    n = max(len(v), len(a))
    pairs = [[v[i] if i < len(v) else None, a[i] if i < len(a) else None] for i in range(n)]
    return pairs if any(x is not None and not math.isnan(x) for p in pairs for x in p) else None
