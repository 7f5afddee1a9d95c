"""Whole tracks of a prepared dataset, with per-track features cached through :class:`FeatureCache`.

The manifest holds clips; engines that need more than one clip of context (a 30 s waveform window, a
codec latent sequence) work on tracks: every audio file with the clips cut from it. A track's feature
is cached like a clip's, under the id ``track:<path>`` and the span of its clips, and each track keeps
its clips' start times and moods so a window can be labelled by the clip under its centre.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from moodtune.data.cache import CachedArray, Feature, FeatureCache, clip_fingerprint
from moodtune.data.manifest import read_manifest
from moodtune.errors import DatasetError
from moodtune.labels import UNKNOWN_STYLE, mood_vector


class WaveformFeature:
    """Mono audio ``[T]`` at ``sr``, stored as float16."""

    name = "waveform"

    def __init__(self, sr: int) -> None:
        self.sr = sr

    def params(self) -> dict[str, Any]:
        return {"sr": self.sr, "dtype": "float16"}

    def compute(self, audio: np.ndarray) -> np.ndarray:
        return audio.astype(np.float16)


@dataclass
class Track:
    """One audio file: its cached feature, the start times ``[C]`` and moods ``[C, 3]`` of its clips, a style id.

    The feature and ``clip_starts`` count from ``start_s`` seconds into the file."""

    track_id: str
    path: str
    split: str
    feature: np.ndarray | CachedArray  # indexing reads only the part asked for
    clip_starts: np.ndarray
    moods: np.ndarray
    style: int
    start_s: float = 0.0

    def mood_at(self, seconds: float) -> np.ndarray:
        """Mood ``[3]`` of the clip that covers ``seconds`` (the last clip starting at or before it)."""
        i = int(np.clip(np.searchsorted(self.clip_starts, seconds, side="right") - 1, 0, len(self.clip_starts) - 1))
        return self.moods[i]


def track_table(manifest: pd.DataFrame) -> pd.DataFrame:
    """One row per audio file: ``clip_id`` (``track:<path>``), path, span of its clips, split, fingerprint."""
    rows = []
    for path, clips in manifest.groupby("path", sort=True):
        start, end = float(clips["start_s"].min()), float(clips["end_s"].max())
        rows.append(
            {
                "clip_id": f"track:{path}",
                "track_id": str(clips["track_id"].iloc[0]),
                "path": str(path),
                "start_s": start,
                "end_s": end,
                "split": str(clips["split"].iloc[0]),
                "fingerprint": clip_fingerprint(path, start, end),
            }
        )
    return pd.DataFrame(rows)


def load_tracks(
    data_dir: str | os.PathLike[str],
    feature: Feature,
    styles: list[str],
    splits: tuple[str, ...] = ("train", "val", "test"),
    manifest: pd.DataFrame | None = None,
    progress: bool = True,
) -> list[Track]:
    """Tracks of ``splits`` with ``feature`` computed once per file (cached) and their clip labels."""
    manifest = read_manifest(data_dir) if manifest is None else manifest
    manifest = manifest[manifest["split"].isin(splits)]
    if manifest.empty:
        raise DatasetError(f"{data_dir}: no clips in the {'/'.join(splits)} split(s)")
    table = track_table(manifest)
    cache = FeatureCache(data_dir)
    cache.ensure(table, feature, progress=progress)
    index = {s: i for i, s in enumerate(styles)}
    tracks = []
    for row, (_, clips) in zip(table.to_dict("records"), manifest.groupby("path", sort=True), strict=True):
        clips = clips.sort_values("start_s")
        moods = np.array([mood_vector(v, a) for v, a in zip(clips["valence"], clips["arousal"], strict=True)])
        tracks.append(
            Track(
                track_id=row["track_id"],
                path=row["path"],
                split=row["split"],
                feature=cache.open_row(feature, row),
                clip_starts=(clips["start_s"].to_numpy() - row["start_s"]).astype(np.float64),
                moods=moods.astype(np.float32),
                style=index.get(str(clips["style"].iloc[0]), UNKNOWN_STYLE),
                start_s=float(row["start_s"]),
            )
        )
    return tracks


def feature_folder(data_dir: str | os.PathLike[str], feature: Feature) -> Path:
    """Where a feature's cache entries (and tables derived from them) live."""
    return FeatureCache(data_dir).folder(feature)
