"""The trained mood model at use time: audio -> valence/arousal, per clip or as a curve over time."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from moodtune.audio.io import resample
from moodtune.engines.checkpoint import fitting, load_checkpoint
from moodtune.evaluation.descriptors import MoodDescriptors
from moodtune.models.mood_regressor import MoodRegressor


class MoodModel:
    """Predict valence/arousal of audio with a regressor trained by ``moodtune train mood``."""

    def __init__(
        self,
        regressor: MoodRegressor,
        descriptors: MoodDescriptors,
        path: Path | None = None,
        results: dict[str, Any] | None = None,
    ) -> None:
        self.regressor = regressor.eval()
        self.descriptors = descriptors
        self.path = path
        self.results = results or {}  # the scores training saved (val_* and test_* R^2, RMSE, ...)

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str]) -> MoodModel:
        """Load a run folder written by ``moodtune train mood``."""
        state, config = load_checkpoint(path, "mood")
        with fitting(path, "mood"):
            regressor = MoodRegressor(**config["model"])
            regressor.load_state_dict(state)
            d = config["descriptors"]
            descriptors = MoodDescriptors(d["sr"], d["window_s"], d["hop_s"])
        return cls(regressor, descriptors, Path(path), config.get("results"))

    @property
    def sr(self) -> int:
        """Sample rate the descriptors are computed at."""
        return self.descriptors.sr

    def _prepare(self, audio: np.ndarray, sr: int) -> np.ndarray:
        return resample(np.asarray(audio, np.float32), sr, self.sr) if sr != self.sr else audio

    def windows(self, audio: np.ndarray, sr: int, hop_s: float | None = None) -> np.ndarray:
        """Per-window predictions ``[W, 2]``."""
        x = torch.from_numpy(self.descriptors.compute(self._prepare(audio, sr), hop_s))
        with torch.no_grad():
            return self.regressor(x).numpy()

    def predict(self, audio: np.ndarray, sr: int) -> np.ndarray:
        """Valence and arousal ``[2]`` of a clip: the mean over its 4 s windows."""
        return self.windows(audio, sr).mean(0)

    def embed(self, audio: np.ndarray, sr: int) -> np.ndarray:
        """Penultimate-layer embeddings ``[W, E]`` of the clip's windows."""
        x = torch.from_numpy(self.descriptors.compute(self._prepare(audio, sr)))
        with torch.no_grad():
            return self.regressor.embed(x).numpy()

    def curve(self, audio: np.ndarray, sr: int, step_s: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
        """``(times [N], valence/arousal [N, 2])``: windows every ``step_s``, each time the window's centre."""
        audio = self._prepare(audio, sr)
        starts = self.descriptors.window_starts(max(len(audio), 1), step_s)
        va = self.windows(audio, self.sr, step_s)
        centre = min(self.descriptors.window_s, len(audio) / self.sr) / 2
        return starts / self.sr + centre, va
