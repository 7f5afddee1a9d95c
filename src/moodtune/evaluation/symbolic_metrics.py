"""Symbolic music metrics (as in MGEval / muspy) and how close two sets' distributions are.

A piece is a list of :class:`GridNote` on a tick grid with ``resolution`` ticks per beat, 4/4 assumed
for measures. The definitions follow muspy 0.5 (tests cross-check them on the same MIDI files):

- pitch-class entropy: entropy (bits) of the note-count pitch-class histogram;
- scale consistency: the largest share of notes inside one major or natural-minor scale;
- groove consistency: 1 - mean Hamming distance between onset patterns of neighbouring measures;
- empty-beat rate: share of beats with no sounding note;
- polyphony: mean number of pitches on, over ticks where at least one is on;
- note density: notes per second; pitch range: highest - lowest pitch.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pretty_midi

_MAJOR = (0, 2, 4, 5, 7, 9, 11)
_MINOR = (0, 2, 3, 5, 7, 8, 10)

METRICS = (
    "pitch_class_entropy",
    "scale_consistency",
    "groove_consistency",
    "empty_beat_rate",
    "polyphony",
    "note_density",
    "pitch_range",
)


@dataclass(frozen=True)
class GridNote:
    """A note on the tick grid: ``[start, end)`` in ticks, MIDI pitch."""

    start: int
    end: int
    pitch: int


@dataclass(frozen=True)
class GridPiece:
    """Notes (drums excluded), ticks per beat and the length in seconds; where known, the bar lines (ticks from
    the piece's start), the number of the first of them in the whole piece (0: the piece's first bar), and the
    length in ticks. Without bar lines a bar is 4 beats from tick 0."""

    notes: tuple[GridNote, ...]
    resolution: int
    seconds: float
    downbeats: tuple[int, ...] = ()
    first_bar: int = 0
    ticks: int = 0


def piece_from_midi(pm: pretty_midi.PrettyMIDI, start_s: float = 0.0, end_s: float | None = None) -> GridPiece:
    """Non-drum notes starting in ``[start_s, end_s)``, on the MIDI file's own tick grid, counted from the tick of
    ``start_s`` (a clip from the middle of a piece starts at tick 0, as a generated piece does) and cut at
    ``end_s``."""
    end_s = pm.get_end_time() if end_s is None else end_s
    first, last = int(pm.time_to_tick(start_s)), int(pm.time_to_tick(end_s))
    notes = [
        GridNote(int(pm.time_to_tick(n.start)) - first, min(int(pm.time_to_tick(n.end)), last) - first, int(n.pitch))
        for inst in pm.instruments
        if not inst.is_drum
        for n in inst.notes
        if start_s <= n.start < end_s
    ]
    bars = [int(pm.time_to_tick(t)) for t in pm.get_downbeats()]
    inside = tuple(b - first for b in bars if first <= b < last)
    before = sum(1 for b in bars if b < first)
    return GridPiece(
        tuple(sorted(notes, key=lambda n: (n.start, n.pitch))),
        pm.resolution,
        max(end_s - start_s, 0.0),
        inside,
        before,
        last - first,
    )


def read_piece(path: str | os.PathLike[str], start_s: float = 0.0, end_s: float | None = None) -> GridPiece:
    """:func:`piece_from_midi` of a MIDI file."""
    return piece_from_midi(pretty_midi.PrettyMIDI(str(path)), start_s, end_s)


def _length(piece: GridPiece) -> int:
    return max((n.end for n in piece.notes), default=0)


def pitch_class_entropy(piece: GridPiece) -> float:
    """Entropy in bits of the pitch-class histogram (NaN without notes)."""
    counts = np.bincount([n.pitch % 12 for n in piece.notes], minlength=12).astype(float)
    if counts.sum() < 1:
        return math.nan
    p = counts[counts > 0] / counts.sum()
    return float(-(p * np.log2(p)).sum())


def scale_consistency(piece: GridPiece) -> float:
    """Largest share of notes in one of the 24 major / natural-minor scales (NaN without notes)."""
    if not piece.notes:
        return math.nan
    counts = np.bincount([n.pitch % 12 for n in piece.notes], minlength=12)
    best = max(counts[[(root + d) % 12 for d in scale]].sum() for scale in (_MAJOR, _MINOR) for root in range(12))
    return float(best / len(piece.notes))


def groove_consistency(piece: GridPiece, beats_per_measure: int = 4) -> float:
    """1 - mean Hamming distance between neighbouring measures' onset patterns (NaN under 2 measures)."""
    measure = beats_per_measure * piece.resolution
    n_measures = _length(piece) // measure + 1
    if n_measures < 2:
        return math.nan
    patterns = np.zeros((n_measures, measure), bool)
    for n in piece.notes:
        m, pos = divmod(n.start, measure)
        patterns[m, pos] = True
    return float(1 - np.count_nonzero(patterns[:-1] != patterns[1:]) / (measure * (n_measures - 1)))


def empty_beat_rate(piece: GridPiece) -> float:
    """Share of beats in which no note sounds (NaN for an empty piece)."""
    length = _length(piece)
    if length < 1:
        return math.nan
    n_beats = length // piece.resolution + 1
    busy = np.zeros(n_beats, bool)
    for n in piece.notes:
        busy[n.start // piece.resolution : n.end // piece.resolution + 1] = True
    return float(1 - busy.sum() / n_beats)


def polyphony(piece: GridPiece) -> float:
    """Mean number of pitches on over the ticks where at least one is on (NaN without notes)."""
    length = _length(piece)
    if length < 1:
        return math.nan
    roll = np.zeros((length, 128), bool)
    for n in piece.notes:
        roll[n.start : n.end, n.pitch] = True
    active = np.count_nonzero(roll.any(1))
    return float(roll.sum() / active) if active else math.nan


def note_density(piece: GridPiece) -> float:
    """Notes per second (NaN for a zero-length piece)."""
    return len(piece.notes) / piece.seconds if piece.seconds > 0 else math.nan


def pitch_range(piece: GridPiece) -> float:
    """Highest minus lowest pitch (NaN without notes)."""
    if not piece.notes:
        return math.nan
    pitches = [n.pitch for n in piece.notes]
    return float(max(pitches) - min(pitches))


def piece_metrics(piece: GridPiece) -> dict[str, float]:
    """All :data:`METRICS` of one piece."""
    return {name: globals()[name](piece) for name in METRICS}


def set_metrics(pieces: Sequence[GridPiece]) -> dict[str, list[float]]:
    """``metric -> per-piece values`` for a set of pieces."""
    per_piece = [piece_metrics(p) for p in pieces]
    return {name: [m[name] for m in per_piece] for name in METRICS}


def _kde(values: np.ndarray, grid: np.ndarray, bandwidth: float) -> np.ndarray:
    d = (grid[:, None] - values[None, :]) / bandwidth
    density = np.exp(-0.5 * d**2).sum(1) / (len(values) * bandwidth * math.sqrt(2 * math.pi))
    return density


def distribution_overlap(a: Sequence[float], b: Sequence[float], points: int = 512) -> dict[str, float]:
    """Overlapped area and KL(a || b) of Gaussian-KDE densities of two samples (NaNs dropped).

    The bandwidth is Silverman's rule on the pooled sample, floored at 1 % of the pooled range (or
    1e-3), so constant sets still get a density. Overlap is 1 for identical distributions, 0 for
    disjoint ones.
    """
    x, y = np.asarray(a, float), np.asarray(b, float)
    x, y = x[np.isfinite(x)], y[np.isfinite(y)]
    if len(x) == 0 or len(y) == 0:
        return {"overlap": math.nan, "kl": math.nan}
    pooled = np.concatenate([x, y])
    spread = float(pooled.max() - pooled.min())
    bw = max(1.06 * float(pooled.std()) * len(pooled) ** -0.2, 0.01 * spread, 1e-3)
    grid = np.linspace(pooled.min() - 4 * bw, pooled.max() + 4 * bw, points)
    step = grid[1] - grid[0]
    p, q = _kde(x, grid, bw), _kde(y, grid, bw)
    overlap = float(np.minimum(p, q).sum() * step)
    mask = p > 1e-12
    kl = float((p[mask] * np.log(p[mask] / np.maximum(q[mask], 1e-12))).sum() * step)
    return {"overlap": round(min(overlap, 1.0), 4), "kl": round(max(kl, 0.0), 4)}
