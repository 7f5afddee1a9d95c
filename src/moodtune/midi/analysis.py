"""Key estimation (Krumhansl-Kessler profiles) and parallel-mode transformation of pitches."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

# Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
_MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
_MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])

PITCH_CLASS_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# Scale degrees (semitones above the tonic) that differ between major and natural minor.
_MAJOR_TO_MINOR = {4: 3, 9: 8, 11: 10}
_MINOR_TO_MAJOR = {3: 4, 8: 9, 10: 11}


def pitch_class_histogram(pitches: Sequence[int], weights: Sequence[float] | None = None) -> np.ndarray:
    """Weighted pitch-class histogram ``[12]`` (weights default to 1, e.g. use note durations)."""
    hist = np.zeros(12)
    w = np.ones(len(pitches)) if weights is None else np.asarray(weights, dtype=np.float64)
    np.add.at(hist, np.asarray(pitches, dtype=np.int64) % 12, w)
    return hist


def estimate_key(pitches: Sequence[int], weights: Sequence[float] | None = None) -> tuple[int, str]:
    """``(tonic_pitch_class, "major" | "minor")`` maximising the correlation with the K-K profiles."""
    hist = pitch_class_histogram(pitches, weights)
    if hist.sum() == 0:
        raise ValueError("cannot estimate the key of an empty note list")
    best: tuple[float, int, str] = (-np.inf, 0, "major")
    for tonic in range(12):
        rotated = np.roll(hist, -tonic)
        for mode, profile in (("major", _MAJOR_PROFILE), ("minor", _MINOR_PROFILE)):
            r = float(np.corrcoef(rotated, profile)[0, 1])
            if r > best[0]:
                best = (r, tonic, mode)
    return best[1], best[2]


def to_parallel_mode(pitch: int, tonic: int, mode: str) -> int:
    """Map a MIDI pitch from ``mode`` to its parallel mode on the same tonic.

    Major -> natural minor lowers scale degrees 3, 6 and 7; minor -> major raises them.
    Other pitches (including the raised leading tone of harmonic minor) stay.
    """
    table = _MAJOR_TO_MINOR if mode == "major" else _MINOR_TO_MAJOR
    degree = (pitch - tonic) % 12
    return pitch + (table[degree] - degree) if degree in table else pitch
