"""torch Datasets over a prepared folder: log-mel slices with mood and style labels."""

from __future__ import annotations

import os

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from moodtune.data.cache import CachedArray, FeatureCache, LogMelFeature
from moodtune.data.manifest import read_manifest
from moodtune.errors import DatasetError
from moodtune.labels import mood_vector

UNKNOWN = "<unknown>"


def style_vocabulary(manifest: pd.DataFrame) -> list[str]:
    """``["<unknown>", *sorted styles]``: index 0 is the unknown style."""
    return [UNKNOWN, *sorted(set(manifest["style"].astype(str)))]


class MelSliceDataset(Dataset):
    """128-frame log-mel slices of a split, read from the cache as they are asked for (memory does not grow with
    the dataset).

    Each clip yields ``floor(frames / slice_frames)`` items per epoch. With ``random_offset``
    (training) a slice starts at a random frame; otherwise slices are consecutive from frame 0.
    Items are dicts: ``x [1, n_mels, slice_frames]``, ``mood [3]``, ``style`` (long).
    """

    def __init__(
        self,
        data_dir: str | os.PathLike[str],
        split: str,
        styles: list[str],
        slice_frames: int = 128,
        random_offset: bool = False,
        manifest: pd.DataFrame | None = None,
    ) -> None:
        df = read_manifest(data_dir) if manifest is None else manifest
        df = df[df["split"] == split]
        if df.empty:
            raise DatasetError(f"{data_dir}: the {split} split is empty")
        cache, feature = FeatureCache(data_dir), LogMelFeature()
        index = {s: i for i, s in enumerate(styles)}
        self.mels: list[CachedArray] = []
        moods, style_ids = [], []
        for row in df.to_dict("records"):
            try:
                mel = cache.open_row(feature, row)
            except FileNotFoundError as exc:
                raise DatasetError(f"{data_dir}: cached log-mel of {row['clip_id']} is missing; rerun prepare") from exc
            if mel.shape[1] < slice_frames:
                continue
            self.mels.append(mel)
            moods.append(mood_vector(row["valence"], row["arousal"]))
            style_ids.append(index.get(str(row["style"]), 0))
        self.moods = torch.tensor(moods, dtype=torch.float32)  # [N, 3]
        self.styles = torch.tensor(style_ids, dtype=torch.long)  # [N]
        self.slice_frames = slice_frames
        self.random_offset = random_offset
        self.items = [(c, k) for c, mel in enumerate(self.mels) for k in range(mel.shape[1] // slice_frames)]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        clip, k = self.items[i]
        mel = self.mels[clip]
        f = self.slice_frames
        start = int(np.random.randint(0, mel.shape[1] - f + 1)) if self.random_offset else k * f
        x = torch.from_numpy(mel[:, start : start + f].astype(np.float32)).unsqueeze(0)  # reads this slice only
        return {"x": x, "mood": self.moods[clip], "style": self.styles[clip]}
