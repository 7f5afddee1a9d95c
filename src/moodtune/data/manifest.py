"""The manifest: one row per clip, stored as Parquet, with a JSON summary beside it."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from moodtune.errors import DatasetError
from moodtune.fsutil import atomic_path, write_json_atomic
from moodtune.mood import quadrant_name

MANIFEST_FILE = "manifest.parquet"
SUMMARY_FILE = "summary.json"

#: Columns of every manifest, in order. ``va_curve`` is a JSON list of per-second
#: ``[valence, arousal]`` pairs (``null`` where unknown), or an empty string.
#: ``midi_path`` is set where the clip's audio was rendered from MIDI; ``fingerprint``
#: identifies the clip's audio content for the feature cache. ``tonic`` is the pitch class of the key a
#: rendering was written in where the dataset knows it (builtin: the score's), else -1.
MANIFEST_COLUMNS = (
    "clip_id",
    "track_id",
    "path",
    "start_s",
    "end_s",
    "sr",
    "valence",
    "arousal",
    "va_curve",
    "style",
    "split",
    "source",
    "midi_path",
    "variant",
    "tonic",
    "fingerprint",
)


def write_manifest(rows: list[dict[str, Any]], out_dir: str | os.PathLike[str]) -> Path:
    """Write ``rows`` (dicts with :data:`MANIFEST_COLUMNS`) to ``out_dir/manifest.parquet`` atomically."""
    df = pd.DataFrame(rows, columns=list(MANIFEST_COLUMNS))
    df["tonic"] = df["tonic"].fillna(-1)  # rows stored before the column existed
    df = df.astype(
        {
            "start_s": "float64",
            "end_s": "float64",
            "sr": "int64",
            "valence": "float64",
            "arousal": "float64",
            "tonic": "int64",
        }
    )
    path = Path(out_dir) / MANIFEST_FILE
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
    return path


@functools.lru_cache(maxsize=4096)
def va_curve_array(text: str) -> np.ndarray:
    """A manifest ``va_curve`` (JSON per-second ``[valence, arousal]`` pairs) -> ``[seconds, 2]`` float64,
    NaN where a second is not annotated; ``[0, 2]`` for an empty string. Cached: treat it as read-only."""
    if not text:
        return np.zeros((0, 2))
    pairs = json.loads(text)
    return np.array([[np.nan if v is None else v for v in pair] for pair in pairs], np.float64).reshape(-1, 2)


def read_manifest(data_dir: str | os.PathLike[str]) -> pd.DataFrame:
    """Read the manifest of a prepared dataset folder."""
    path = Path(data_dir) / MANIFEST_FILE
    if not path.is_file():
        raise DatasetError(f"{path}: no manifest here; run 'moodtune prepare' first")
    return pd.read_parquet(path)


def read_audio_manifest(data_dir: str | os.PathLike[str], user: str) -> pd.DataFrame:
    """The manifest of a dataset with audio; DatasetError naming ``user`` (who needs the audio) for a dataset
    prepared with ``--midi-only``."""
    df = read_manifest(data_dir)
    if len(df) and (df["fingerprint"].astype(str) == "").all():
        raise DatasetError(
            f"{data_dir}: prepared with --midi-only, so it holds MIDI but no audio; {user} needs audio: "
            "prepare the dataset without --midi-only"
        )
    return df


def read_summary(data_dir: str | os.PathLike[str]) -> dict[str, Any]:
    """Read the JSON summary of a prepared dataset folder."""
    path = Path(data_dir) / SUMMARY_FILE
    if not path.is_file():
        raise DatasetError(f"{path}: no summary here; run 'moodtune prepare' first")
    return json.loads(path.read_text())


def _nan_to_none(x: float) -> float | None:
    return None if x is None or (isinstance(x, float) and math.isnan(x)) else x


def build_summary(rows: list[dict[str, Any]], skipped: list[dict[str, str]], extra: dict[str, Any]) -> dict[str, Any]:
    """Counts per split, quadrant and style, total hours, and the skipped files with their reasons."""
    per_split: dict[str, dict[str, int]] = {}
    for split in ("train", "val", "test"):
        split_rows = [r for r in rows if r["split"] == split]
        per_split[split] = {"clips": len(split_rows), "tracks": len({r["track_id"] for r in split_rows})}
    quadrants = Counter(quadrant_name(r["valence"], r["arousal"]) for r in rows)
    styles = Counter(r["style"] for r in rows)
    seconds = sum(r["end_s"] - r["start_s"] for r in rows)
    labeled = [r for r in rows if _nan_to_none(r["valence"]) is not None]
    return {
        **extra,
        "clips": len(rows),
        "tracks": len({r["track_id"] for r in rows}),
        "hours": round(seconds / 3600.0, 4),
        "labeled_clips": len(labeled),
        "splits": per_split,
        "quadrants": dict(sorted(quadrants.items())),
        "styles": dict(sorted(styles.items())),
        "skipped_count": len(skipped),
        "skipped": skipped,
    }


def write_summary(summary: dict[str, Any], out_dir: str | os.PathLike[str]) -> Path:
    """Write the summary JSON atomically."""
    path = Path(out_dir) / SUMMARY_FILE
    write_json_atomic(path, summary)
    return path


def data_fingerprint(data_dir: str | os.PathLike[str]) -> str:
    """A short hash of what a prepared folder holds: every clip's id, audio fingerprint, labels, style and split
    (two folders with the same fingerprint train the same models)."""
    df = read_manifest(data_dir).sort_values("clip_id")
    cols = ["clip_id", "fingerprint", "valence", "arousal", "style", "split"]
    text = df[cols].round({"valence": 6, "arousal": 6}).to_csv(index=False)
    return hashlib.sha1(text.encode()).hexdigest()[:12]
