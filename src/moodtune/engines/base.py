"""The one interface every model family implements: ``Engine.from_checkpoint(path).generate(Request)``.

What an engine can do beyond generating is a capability, a runtime-checkable Protocol checked with
``isinstance(engine, Reconstructs)``: :class:`Reconstructs`, :class:`Continues`, :class:`Varies`.
"""

from __future__ import annotations

import os
import random
from abc import ABC, abstractmethod
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from moodtune.engines.checkpoint import fitting, read_checkpoint_config
from moodtune.errors import MoodtuneError
from moodtune.mood import Mood, Trajectory
from moodtune.registry import family, resolve

if TYPE_CHECKING:
    import pretty_midi


#: Seeds lie in [0, MAX_SEED): what every random generator here accepts.
MAX_SEED = 2**63


#: The length of a request that gives none, in seconds.
DEFAULT_SECONDS = 30.0


@dataclass(frozen=True)
class EngineOptions:
    """Sampling options only one family understands; each family subclasses this with its own fields."""

    engine: str = ""  # set by each subclass: the family that reads these options


@dataclass(frozen=True)
class Request:
    """What to generate: a mood or a trajectory, a length, a style, a seed, a temperature, and optionally
    options of one family (``options``, e.g. the symbolic engine's :class:`SymbolicOptions`)."""

    mood: Mood | None = None
    trajectory: Trajectory | None = None
    seconds: float = DEFAULT_SECONDS
    style: str | None = None
    seed: int = 0
    temperature: float = 1.0
    options: EngineOptions | None = None

    def __post_init__(self) -> None:
        if (self.mood is None) == (self.trajectory is None):
            raise MoodtuneError("a request needs exactly one of a mood or a trajectory")
        if not 0.5 <= self.seconds <= 3600:
            raise MoodtuneError(f"seconds must lie in [0.5, 3600], got {self.seconds}")
        if not 0.0 <= self.temperature <= 5.0:
            raise MoodtuneError(f"temperature must lie in [0, 5], got {self.temperature}")
        if isinstance(self.seed, bool) or not isinstance(self.seed, int) or not 0 <= self.seed < MAX_SEED:
            raise MoodtuneError(f"seed must be a whole number from 0 to {MAX_SEED - 1}, got {self.seed!r}")

    def mood_at(self, seconds: np.ndarray) -> np.ndarray:
        """Valence/arousal ``[N, 2]`` asked for at the given times."""
        if self.trajectory is not None:
            return self.trajectory.at(seconds)
        assert self.mood is not None
        return np.tile([self.mood.valence, self.mood.arousal], (len(seconds), 1))

    def describe(self) -> str:
        """``"happy"``, ``"0.50,-0.20"`` or ``"trajectory"``: a short name for titles and file names."""
        return self.mood.nearest_name() if self.mood is not None else "trajectory"


@dataclass
class Result:
    """Generated audio ``[T]`` (mono float32 at ``sr``), its log-mel ``[n_mels, F]`` (spectrogram-based
    engines) or its MIDI (symbolic engine), and metadata."""

    audio: np.ndarray
    sr: int
    mel: np.ndarray | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    midi: pretty_midi.PrettyMIDI | None = None


class Engine(ABC):
    """A trained model family ready to generate."""

    name: str = ""
    #: Whether :meth:`generate` writes MIDI (``Result.midi``) and audio rendered from it, rather than audio alone.
    writes_midi: bool = False

    @classmethod
    @abstractmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], device: str = "cpu") -> Engine:
        """Load a checkpoint folder written by training."""

    @property
    @abstractmethod
    def sr(self) -> int:
        """Sample rate of the audio it writes (and reads, where it reads any)."""

    @abstractmethod
    def generate(self, request: Request) -> Result:
        """Generate audio for the request."""

    def with_style(self, request: Request) -> Request:
        """``request`` with a style: its own, else one of the model's styles drawn with its seed.

        Every training clip has a style, so the unknown style (index 0) is never trained; a request without a
        style gets a known one instead of that untrained condition.
        """
        styles: list[str] = getattr(self, "styles", [])
        if request.style is not None or len(styles) < 2:
            return request
        return replace(request, style=styles[1 + random.Random(request.seed).randrange(len(styles) - 1)])

    def options(self, request: Request, kind: type[EngineOptions] | None = None) -> EngineOptions | None:
        """The request's family options: refused when they belong to another family; ``kind()`` when absent."""
        opts = request.options
        if opts is not None and (kind is None or not isinstance(opts, kind)):
            raise MoodtuneError(f"the {self.name} engine does not take {opts.engine} options")
        return opts if opts is not None else (kind() if kind is not None else None)


@runtime_checkable
class Reconstructs(Protocol):
    """Encode and decode audio: what the model keeps of a clip."""

    name: str

    @property
    def sr(self) -> int: ...

    def reconstruct_audio(
        self, audio: np.ndarray, valence: float | None = None, arousal: float | None = None, style: str | None = None
    ) -> np.ndarray:
        """``audio [T]`` at ``sr`` -> its reconstruction ``[T]``."""
        ...


@runtime_checkable
class HasComponent(Protocol):
    """An engine built on a fixed component (a vocoder, a codec) whose own round trip bounds reconstruction."""

    component: str

    def component_roundtrip(self, audio: np.ndarray) -> np.ndarray:
        """``audio [T]`` through the component alone -> ``[T]``."""
        ...


@runtime_checkable
class Continues(Protocol):
    """Continue a piece of audio."""

    def continue_audio(self, audio: np.ndarray, request: Request, crossfade_s: float = 0.5) -> Result:
        """``audio [T]`` followed by ``request.seconds`` of continuation."""
        ...


@runtime_checkable
class Varies(Protocol):
    """Make a variation of a piece of audio."""

    def vary(
        self,
        audio: np.ndarray,
        amount: float = 0.5,
        seed: int = 0,
        valence: float | None = None,
        arousal: float | None = None,
        style: str | None = None,
    ) -> np.ndarray:
        """Encode -> perturb by ``amount`` -> decode ``audio [T]``."""
        ...


def load_engine(path: str | os.PathLike[str], device: str = "cpu") -> Engine:
    """Open any checkpoint with the engine its config names (looked up in the registry)."""
    name = read_checkpoint_config(path).get("engine")
    if name == "mood":
        raise MoodtuneError(
            f"{path}: a mood model (the judge), not an engine; read audio with it by "
            "'moodtune analyze --model' or moodtune.api.load_mood_model"
        )
    try:
        engine_class = resolve(family(str(name)).engine)
    except MoodtuneError as exc:
        raise MoodtuneError(f"{path}: {exc}") from exc
    with fitting(path, str(name)):
        return engine_class.from_checkpoint(path, device)


def mood_clips(engine: Engine, moods: tuple[str, ...], seconds: float, seed: int = 0) -> list[tuple[str, Result]]:
    """One generated clip per named mood, in order."""
    return [(name, engine.generate(Request(mood=Mood.named(name), seconds=seconds, seed=seed))) for name in moods]
