"""Musical cues that music psychology ties to emotion, and the mood they imply.

Each cue is a level in [-1, 1]:

* ``mode``: +1 major, -1 minor (the piece as written or its parallel-mode transformation)
* ``tempo``: -1 slow (about 59 BPM) .. +1 fast (about 168 BPM); ``bpm = 100 * 2 ** (0.75 * tempo)``
* ``loudness``: -1 soft (velocity 30) .. +1 loud (velocity 110); ``velocity = 70 + 40 * loudness``
* ``articulation``: -1 legato (notes sound their full length) .. +1 staccato (30 % of it);
  ``fraction = 0.65 - 0.35 * articulation``
* ``register``: -1 an octave down, 0 as written, +1 an octave up

The labels are a documented formula of those cues (weights follow the relative importance
reported by Gabrielsson & Lindstrom and Juslin & Laukka: mode dominates valence; tempo,
loudness and articulation drive arousal)::

    valence = 0.50 * mode + 0.25 * register + 0.25 * tempo
    arousal = 0.45 * tempo + 0.35 * loudness + 0.20 * articulation

They are cue-controlled targets, not human ratings.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass

QUADRANT_SIGNS: dict[str, tuple[int, int]] = {"happy": (1, 1), "angry": (-1, 1), "sad": (-1, -1), "calm": (1, -1)}


@dataclass(frozen=True)
class Cues:
    """Cue levels of one rendering of a piece."""

    mode: int
    tempo: float
    loudness: float
    articulation: float
    register: int

    @property
    def valence(self) -> float:
        """Valence implied by the cues, in [-1, 1]."""
        return round(0.50 * self.mode + 0.25 * self.register + 0.25 * self.tempo, 4)

    @property
    def arousal(self) -> float:
        """Arousal implied by the cues, in [-1, 1]."""
        return round(0.45 * self.tempo + 0.35 * self.loudness + 0.20 * self.articulation, 4)

    @property
    def bpm(self) -> float:
        """Quarter notes per minute."""
        return 100.0 * 2.0 ** (0.75 * self.tempo)

    @property
    def velocity(self) -> int:
        """MIDI note-on velocity before humanisation."""
        return round(70 + 40 * self.loudness)

    @property
    def duration_fraction(self) -> float:
        """Fraction of its written length that a note sounds."""
        return 0.65 - 0.35 * self.articulation

    @property
    def transpose(self) -> int:
        """Semitones of the register shift."""
        return 12 * self.register

    def to_dict(self) -> dict[str, float]:
        """Plain dict (stored with each rendering)."""
        return asdict(self)


def sample_cues(quadrant: str, rng: random.Random) -> Cues:
    """Random cue levels whose implied mood lies in ``quadrant`` (happy / angry / sad / calm).

    The signs of mode, register, tempo, loudness and articulation follow the quadrant; their
    magnitudes are drawn, so labels spread over the quadrant instead of sitting on four points.
    """
    sv, sa = QUADRANT_SIGNS[quadrant]
    return Cues(
        mode=sv,
        tempo=round(sa * rng.uniform(0.35, 1.0), 3),
        loudness=round(sa * rng.uniform(0.35, 1.0), 3),
        articulation=round(sa * rng.uniform(0.0, 1.0), 3),
        register=sv * rng.choice((0, 1)),
    )
