"""Mood on Russell's circumplex: valence and arousal in [-1, 1], named moods and trajectories.

A named mood is a point on the unit circle at a fixed angle (degrees, counter-clockwise from
the positive valence axis), scaled by ``NAMED_RADIUS`` so it lies well inside the square
[-1, 1]^2. The four quadrants carry the four classic moods: happy (+v +a), angry (-v +a),
sad (-v -a) and calm (+v -a).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from moodtune.errors import MoodtuneError

NAMED_RADIUS = 0.8

#: Circumplex angle in degrees of every named mood.
MOOD_ANGLES: dict[str, float] = {
    "pleased": 15.0,
    "happy": 45.0,
    "excited": 70.0,
    "alarmed": 100.0,
    "tense": 115.0,
    "angry": 135.0,
    "frustrated": 160.0,
    "miserable": 195.0,
    "sad": 225.0,
    "depressed": 240.0,
    "bored": 260.0,
    "tired": 285.0,
    "calm": 315.0,
    "relaxed": 335.0,
    "content": 350.0,
}

QUADRANT_NAMES: dict[int, str] = {1: "happy", 2: "angry", 3: "sad", 4: "calm"}

#: The four quadrant moods in quadrant order.
QUADRANT_MOODS: tuple[str, ...] = tuple(QUADRANT_NAMES.values())


@dataclass(frozen=True)
class Mood:
    """A point of the circumplex; both coordinates in [-1, 1]."""

    valence: float
    arousal: float

    def __post_init__(self) -> None:
        for name, value in (("valence", self.valence), ("arousal", self.arousal)):
            if not isinstance(value, (int, float)) or not math.isfinite(value) or not -1.0 <= value <= 1.0:
                raise MoodtuneError(f"{name} must be a number in [-1, 1], got {value!r}")

    @classmethod
    def named(cls, name: str) -> Mood:
        """The point of a named mood, e.g. ``Mood.named("calm")``."""
        key = name.strip().lower()
        if key not in MOOD_ANGLES:
            raise MoodtuneError(f"unknown mood {name!r}; known moods: {', '.join(sorted(MOOD_ANGLES))}")
        angle = math.radians(MOOD_ANGLES[key])
        return cls(round(NAMED_RADIUS * math.cos(angle), 6), round(NAMED_RADIUS * math.sin(angle), 6))

    @classmethod
    def parse(cls, text: str) -> Mood:
        """Parse a mood name (``"sad"``) or a ``"valence,arousal"`` pair (``"0.5,-0.2"``)."""
        text = text.strip()
        if "," in text:
            parts = text.split(",")
            if len(parts) != 2:
                raise MoodtuneError(f"a mood point is 'valence,arousal', got {text!r}")
            try:
                v, a = float(parts[0]), float(parts[1])
            except ValueError as exc:
                raise MoodtuneError(f"a mood point is two numbers 'valence,arousal', got {text!r}") from exc
            return cls(v, a)
        return cls.named(text)

    @property
    def quadrant(self) -> int:
        """1 happy (+v +a), 2 angry (-v +a), 3 sad (-v -a), 4 calm (+v -a)."""
        return quadrant(self.valence, self.arousal)

    def nearest_name(self) -> str:
        """The named mood closest to this point (Euclidean distance)."""
        return min(MOOD_ANGLES, key=lambda n: _dist(self, Mood.named(n)))


def _dist(a: Mood, b: Mood) -> float:
    return math.hypot(a.valence - b.valence, a.arousal - b.arousal)


def quadrant(valence: float, arousal: float) -> int:
    """Quadrant number of a point: 1 happy, 2 angry, 3 sad, 4 calm (0 when a value is unknown)."""
    if valence is None or arousal is None or math.isnan(valence) or math.isnan(arousal):
        return 0
    if arousal >= 0:
        return 1 if valence >= 0 else 2
    return 4 if valence >= 0 else 3


def quadrant_name(valence: float, arousal: float) -> str:
    """``happy``/``angry``/``sad``/``calm``, or ``unlabeled`` when a value is unknown."""
    return QUADRANT_NAMES.get(quadrant(valence, arousal), "unlabeled")


@dataclass(frozen=True)
class Trajectory:
    """A mood curve: knots ``(seconds, mood)`` with strictly increasing times, linearly interpolated.

    Before the first knot and after the last one the curve holds its end value.
    """

    knots: tuple[tuple[float, Mood], ...]

    def __post_init__(self) -> None:
        if not self.knots:
            raise MoodtuneError("a trajectory needs at least one point")
        times = [t for t, _ in self.knots]
        if any(t < 0 or not math.isfinite(t) for t in times):
            raise MoodtuneError(f"trajectory times must be finite and >= 0, got {times}")
        if any(b <= a for a, b in itertools.pairwise(times)):
            raise MoodtuneError(f"trajectory times must increase strictly, got {times}")

    @classmethod
    def parse(cls, text: str) -> Trajectory:
        """Parse the short CLI form ``"sad:0,happy:30"`` (also ``"0.5/-0.2:10"`` for a point)."""
        knots: list[tuple[float, Mood]] = []
        if not text.strip():
            raise MoodtuneError("a trajectory needs at least one point, e.g. 'sad:0,happy:30'")
        for item in (p.strip() for p in text.split(",")):
            if not item:
                raise MoodtuneError(f"an empty point in trajectory {text!r} (two commas in a row, or one at an end?)")
            match = re.fullmatch(r"(.+):([0-9.eE+-]+)", item)
            if not match:
                raise MoodtuneError(f"a trajectory point is 'MOOD:SECONDS', got {item!r} in {text!r}")
            mood_text, seconds = match.group(1), match.group(2)
            mood = Mood.parse(mood_text.replace("/", ",")) if "/" in mood_text else Mood.named(mood_text)
            try:
                knots.append((float(seconds), mood))
            except ValueError as exc:
                raise MoodtuneError(f"bad time {seconds!r} in trajectory {text!r}") from exc
        return cls(tuple(knots))

    @classmethod
    def from_points(cls, points: Sequence[tuple[float, float, float]]) -> Trajectory:
        """Build from ``(seconds, valence, arousal)`` rows."""
        return cls(tuple((float(t), Mood(float(v), float(a))) for t, v, a in points))

    @property
    def duration(self) -> float:
        """Time of the last knot in seconds."""
        return self.knots[-1][0]

    def at(self, seconds: np.ndarray | Sequence[float] | float) -> np.ndarray:
        """Valence/arousal at the given times: array ``[N, 2]`` (``[2]`` for a scalar)."""
        t = np.asarray(seconds, dtype=np.float64)
        times = np.array([k[0] for k in self.knots])
        v = np.interp(t, times, [k[1].valence for k in self.knots])
        a = np.interp(t, times, [k[1].arousal for k in self.knots])
        return np.stack([v, a], axis=-1)
