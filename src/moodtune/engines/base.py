"""The one interface every model family implements: ``Engine.from_checkpoint(path).generate(Request)``."""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from moodtune.errors import MoodtuneError
from moodtune.models.conditioning import UNKNOWN_STYLE
from moodtune.mood import Mood, Trajectory


@dataclass(frozen=True)
class Request:
    """What to generate: a mood or a trajectory, a length, a style, a seed and sampling options."""

    mood: Mood | None = None
    trajectory: Trajectory | None = None
    seconds: float = 30.0
    style: str | None = None
    seed: int = 0
    temperature: float = 1.0
    notes: int | None = None
    top_k: int | None = None
    top_p: float | None = None
    primer: str | None = None

    def __post_init__(self) -> None:
        if (self.mood is None) == (self.trajectory is None):
            raise MoodtuneError("a request needs exactly one of a mood or a trajectory")
        if not 0.5 <= self.seconds <= 3600:
            raise MoodtuneError(f"seconds must lie in [0.5, 3600], got {self.seconds}")
        if not 0.0 <= self.temperature <= 5.0:
            raise MoodtuneError(f"temperature must lie in [0, 5], got {self.temperature}")
        if self.notes is not None and not 1 <= self.notes <= 100_000:
            raise MoodtuneError(f"notes must lie in [1, 100000], got {self.notes}")
        if self.top_k is not None and self.top_k < 1:
            raise MoodtuneError(f"top-k must be at least 1, got {self.top_k}")
        if self.top_p is not None and not 0.0 < self.top_p <= 1.0:
            raise MoodtuneError(f"top-p must lie in (0, 1], got {self.top_p}")

    def mood_at(self, seconds: np.ndarray) -> np.ndarray:
        """Valence/arousal ``[N, 2]`` asked for at the given times."""
        if self.trajectory is not None:
            return self.trajectory.at(seconds)
        assert self.mood is not None
        return np.tile([self.mood.valence, self.mood.arousal], (len(seconds), 1))


@dataclass
class Result:
    """Generated audio ``[T]`` (mono float32 at ``sr``), its log-mel ``[n_mels, F]`` or its MIDI, and metadata."""

    audio: np.ndarray
    sr: int
    mel: np.ndarray | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    midi: Any = None  # pretty_midi.PrettyMIDI for the symbolic engine


def style_index(styles: list[str], style: str | None) -> int:
    """Index of ``style`` in a vocabulary whose entry 0 is "unknown" (None -> 0); MoodtuneError lists the known ones."""
    if style is None:
        return UNKNOWN_STYLE
    if style not in styles[1:]:
        raise MoodtuneError(f"unknown style {style!r}; this model knows: {', '.join(styles[1:]) or 'none'}")
    return styles.index(style)


class Engine(ABC):
    """A trained model family ready to generate."""

    name: str = ""

    @classmethod
    @abstractmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], device: str = "cpu") -> Engine:
        """Load a checkpoint folder written by training."""

    @abstractmethod
    def generate(self, request: Request) -> Result:
        """Generate audio for the request."""


def load_engine(path: str | os.PathLike[str], device: str = "cpu") -> Engine:
    """Open any checkpoint with the engine its config names."""
    from moodtune.engines.checkpoint import read_checkpoint_config

    name = read_checkpoint_config(path).get("engine")
    if name == "spectrogram":
        from moodtune.engines.spectrogram import SpectrogramEngine

        return SpectrogramEngine.from_checkpoint(path, device)
    if name == "symbolic":
        from moodtune.engines.symbolic import SymbolicEngine

        return SymbolicEngine.from_checkpoint(path, device)
    if name == "sequence":
        from moodtune.engines.sequence import SequenceEngine

        return SequenceEngine.from_checkpoint(path, device)
    if name == "waveform":
        from moodtune.engines.waveform import WaveformEngine

        return WaveformEngine.from_checkpoint(path, device)
    if name == "latent":
        from moodtune.engines.latent import LatentEngine

        return LatentEngine.from_checkpoint(path, device)
    raise MoodtuneError(f"{path}: unknown engine {name!r}")
