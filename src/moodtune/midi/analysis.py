"""Key estimation (Krumhansl-Kessler profiles) and parallel-mode transformation of pitches."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from moodtune.errors import MoodtuneError
from moodtune.midi.tokens import NoteEvent

# Krumhansl & Kessler (1982) probe-tone profiles, tonic first.
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])

# Scale degrees (semitones above the tonic) that differ between major and natural minor.
_MAJOR_TO_MINOR = {4: 3, 9: 8, 11: 10}
_MINOR_TO_MAJOR = {3: 4, 8: 9, 10: 11}


def pitch_class_histogram(pitches: Sequence[int], weights: Sequence[float] | None = None) -> np.ndarray:
    """Weighted pitch-class histogram ``[12]`` (weights default to 1, e.g. use note durations)."""
    hist = np.zeros(12)
    w = np.ones(len(pitches)) if weights is None else np.asarray(weights, dtype=np.float64)
    np.add.at(hist, np.asarray(pitches, dtype=np.int64) % 12, w)
    return hist


def _correlation(hist: np.ndarray, tonic: int, mode: str) -> float:
    profile = MAJOR_PROFILE if mode == "major" else MINOR_PROFILE
    return float(np.corrcoef(np.roll(hist, -tonic), profile)[0, 1])


def estimate_key(
    pitches: Sequence[int],
    weights: Sequence[float] | None = None,
    final_bass: int | None = None,
    sharps: int | None = None,
) -> tuple[int, str]:
    """``(tonic_pitch_class, "major" | "minor")`` from Krumhansl-Kessler profile correlation.

    Profiles alone confuse a key with its relative and with its dominant, so two score facts
    help when known:

    * ``sharps`` (key signature, negative for flats) limits the choice to its major key and
      the relative minor;
    * ``final_bass`` (the last bass note) decides between a key and its relative when it is
      the tonic of one of them, since tonal pieces end on their tonic.
    """
    hist = pitch_class_histogram(pitches, weights)
    if hist.sum() == 0:
        raise ValueError("cannot estimate the key of an empty note list")
    if sharps is not None:
        major = (7 * sharps) % 12
        candidates = [(major, "major"), ((major + 9) % 12, "minor")]
    else:
        candidates = [(t, m) for t in range(12) for m in ("major", "minor")]
    best = max(candidates, key=lambda c: _correlation(hist, *c))
    if final_bass is None or final_bass % 12 == best[0]:
        return best
    final = final_bass % 12
    relative = ((best[0] + 9) % 12, "minor") if best[1] == "major" else ((best[0] + 3) % 12, "major")
    return relative if relative[0] == final else best


def to_parallel_mode(pitch: int, tonic: int, mode: str) -> int:
    """Map a MIDI pitch from ``mode`` to its parallel mode on the same tonic.

    Major -> natural minor lowers scale degrees 3, 6 and 7; minor -> major raises them.
    Other pitches (including the raised leading tone of harmonic minor) stay.
    """
    table = _MAJOR_TO_MINOR if mode == "major" else _MINOR_TO_MAJOR
    degree = (pitch - tonic) % 12
    return pitch + (table[degree] - degree) if degree in table else pitch


def shift_to_c(tonic: int) -> int:
    """Semitones (in [-6, 5]) that move the pitch class ``tonic`` to C."""
    shift = -tonic % 12
    return shift - 12 if shift > 5 else shift


def to_c_tonic(notes: list[NoteEvent], tonic: int | None = None) -> list[NoteEvent]:
    """Transpose a piece so its tonic is C: ``tonic`` (a pitch class) where it is known, else the estimated one
    (Krumhansl-Kessler, helped by the final bass note); by at most a tritone either way.

    Every piece then shares one tonic, so its mode shows directly in which thirds, sixths and sevenths
    it uses (E or E-flat, A or A-flat, B or B-flat) instead of having to be inferred from a key first.
    Notes pushed outside the piano range are dropped.
    """
    if not notes:
        return notes
    shift = shift_to_c(estimated_key(notes)[0] if tonic is None else tonic)
    return [dataclasses.replace(n, pitch=n.pitch + shift) for n in notes if 21 <= n.pitch + shift <= 108]


_LETTERS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11}
_ACCIDENTALS = {"": 0, "#": 1, "♯": 1, "b": -1, "♭": -1}


def parse_key(text: str) -> tuple[int, str]:
    """``"D major"``, ``"F# minor"``, ``"Bb major"`` -> ``(tonic pitch class, mode)``; MoodtuneError otherwise."""
    parts = text.strip().split()
    if len(parts) == 2 and parts[1].lower() in ("major", "minor"):
        name, mode = parts[0], parts[1].lower()
        letter, accidental = name[:1].lower(), name[1:]
        if letter in _LETTERS and accidental in _ACCIDENTALS:
            return (_LETTERS[letter] + _ACCIDENTALS[accidental]) % 12, mode
    raise MoodtuneError(f"unknown key {text!r}: give a tonic and a mode, e.g. 'D major', 'F# minor' or 'Bb major'")


def estimated_key(notes: Sequence[NoteEvent]) -> tuple[int, str]:
    """The key of a piece: Krumhansl-Kessler profiles of its duration-weighted pitches, the relative key settled
    by its final bass note."""
    last = max(n.start for n in notes)
    final_bass = min(n.pitch for n in notes if n.start >= last - 1e-6)
    return estimate_key([n.pitch for n in notes], [n.duration for n in notes], final_bass=final_bass)


def to_key(
    notes: list[NoteEvent],
    tonic: int,
    mode: str,
    source: tuple[int, str] | None = None,
    harmonic: bool = False,
) -> list[NoteEvent]:
    """Move a piece into the key ``(tonic, mode)``: transposed from its key (``source`` where it is known, else
    the estimated one) by at most a tritone, then, where its mode differs, into the parallel mode (scale degrees
    3, 6 and 7 moved by a semitone; with ``harmonic`` a major piece keeps its 7th, the minor's leading tone).
    Notes that would leave the piano's range are dropped."""
    if not notes:
        return notes
    here, here_mode = source if source is not None else estimated_key(notes)
    shift = shift_to_c(here) - shift_to_c(tonic)
    shift = (shift + 6) % 12 - 6
    moved = [dataclasses.replace(n, pitch=n.pitch + shift) for n in notes]
    if here_mode != mode:
        keep = (tonic + 11) % 12 if harmonic and here_mode == "major" else None
        moved = [
            n if n.pitch % 12 == keep else dataclasses.replace(n, pitch=to_parallel_mode(n.pitch, tonic, here_mode))
            for n in moved
        ]
    return [n for n in moved if 21 <= n.pitch <= 108]
