"""Musicality of symbolic pieces: a line you could sing, bars that come back, chords you could name, cadences.

Histogram metrics (:mod:`moodtune.evaluation.symbolic_metrics`) are matched by a bag of well-chosen notes; these
four look at the order of the notes. Each takes a :class:`GridPiece` and gives a share in [0, 1], NaN where the
piece has too little to measure:

- **top-line stepwise share**: the highest sounding pitch at each onset (onsets within 30 ms merged) gives the
  top line, one entry per note (a held note is one entry); the share of its consecutive moves of at most 2
  semitones (a repeated pitch is a move of 0);
- **bar recurrence**: each bar (from the piece's own bar lines) as the set of its notes' (onset on a 16-step
  grid of the bar, pitch); the share of non-empty bars after the first whose Jaccard similarity with one of the
  previous 16 non-empty bars is at least 0.5;
- **chord clarity**: at each beat where at least two pitch classes sound, whether they fit inside a major,
  minor, diminished or augmented triad or a dominant, minor or major seventh chord on any root; the share that
  does;
- **cadences**: at each phrase end (every 4th bar of the piece, counted from its first bar), whether the last
  chord of the bar is the tonic triad of the piece's estimated key, or is its dominant (V or V7, or v in minor)
  followed by the tonic at the next bar's downbeat; a chord "is" a triad when its pitch classes lie inside it
  and include its root.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

import numpy as np

from moodtune.evaluation.symbolic_metrics import GridNote, GridPiece
from moodtune.midi.analysis import estimate_key

MUSICALITY = ("topline_stepwise", "bar_recurrence", "chord_clarity", "cadence_rate")

MERGE_SECONDS = 0.03  # onsets closer than this are one onset
STEP_SEMITONES = 2  # a top-line move of at most this is a step
BAR_GRID = 16  # onset positions per bar
RECURRENCE_JACCARD = 0.5  # a bar recurs when it is at least this similar to an earlier one
RECURRENCE_LOOKBACK = 16  # earlier bars it is compared with
PHRASE_BARS = 4  # a phrase ends every this many bars

#: Chords a clear beat fits inside, as semitones above the root.
CHORDS: dict[str, tuple[int, ...]] = {
    "major": (0, 4, 7),
    "minor": (0, 3, 7),
    "diminished": (0, 3, 6),
    "augmented": (0, 4, 8),
    "dominant seventh": (0, 4, 7, 10),
    "minor seventh": (0, 3, 7, 10),
    "major seventh": (0, 4, 7, 11),
}


def _mask(pitch_classes: Sequence[int] | set[int]) -> int:
    return sum(1 << (p % 12) for p in set(pitch_classes))


_CHORD_MASKS = frozenset(_mask([root + i for i in chord]) for chord in CHORDS.values() for root in range(12))


def fits_a_chord(pitch_classes: Sequence[int] | set[int]) -> bool:
    """Whether the pitch classes lie inside one of :data:`CHORDS` on some root."""
    m = _mask(pitch_classes)
    return any(m & ~chord == 0 for chord in _CHORD_MASKS)


def _merge_ticks(piece: GridPiece) -> int:
    """:data:`MERGE_SECONDS` in ticks at the piece's mean tempo (120 BPM when its length in ticks is unknown)."""
    seconds_per_tick = piece.seconds / piece.ticks if piece.ticks > 0 else 0.5 / piece.resolution
    return max(0, int(MERGE_SECONDS / seconds_per_tick)) if seconds_per_tick > 0 else 0


def _length(piece: GridPiece) -> int:
    return piece.ticks if piece.ticks > 0 else max((n.end for n in piece.notes), default=0)


def sounding(piece: GridPiece, tick: int, window: int = 0) -> list[GridNote]:
    """Notes sounding at ``tick``: started by ``tick + window`` (a slightly late onset belongs to it) and not
    ended at ``tick``."""
    return [n for n in piece.notes if n.start <= tick + window and n.end > tick]


def top_line(piece: GridPiece) -> list[int]:
    """Pitches of the top line: the highest note sounding at each (merged) onset, one entry per note."""
    window = _merge_ticks(piece)
    notes = sorted(piece.notes, key=lambda n: n.start)
    line: list[GridNote] = []
    active: list[GridNote] = []
    i = 0
    while i < len(notes):
        first = notes[i].start
        while i < len(notes) and notes[i].start - first <= window:
            active.append(notes[i])
            i += 1
        active = [n for n in active if n.end > first or n.start >= first]
        top = max(active, key=lambda n: (n.pitch, n.start))
        if not line or line[-1] is not top:
            line.append(top)
    return [n.pitch for n in line]


def topline_stepwise(piece: GridPiece) -> float:
    """Share of the top line's consecutive moves of at most :data:`STEP_SEMITONES` (NaN under 2 top notes)."""
    moves = np.abs(np.diff(top_line(piece)))
    return float(np.mean(moves <= STEP_SEMITONES)) if len(moves) else math.nan


def bar_lines(piece: GridPiece) -> list[int]:
    """Bar lines in ticks: the piece's own, or every 4 beats from 0 when it has none."""
    if piece.downbeats:
        return list(piece.downbeats)
    return list(range(0, max(_length(piece), 1), 4 * piece.resolution))


def bars(piece: GridPiece) -> list[tuple[int, int]]:
    """``(start, end)`` ticks of each bar; the last one as long as the bar before it (or 4 beats)."""
    lines = bar_lines(piece)
    spans = list(itertools.pairwise(lines))
    if lines:
        last = spans[-1][1] - spans[-1][0] if spans else 4 * piece.resolution
        spans.append((lines[-1], lines[-1] + last))
    return spans


def _bar_set(piece: GridPiece, start: int, end: int) -> frozenset[tuple[int, int]]:
    span = max(end - start, 1)
    return frozenset(((n.start - start) * BAR_GRID // span, n.pitch) for n in piece.notes if start <= n.start < end)


def bar_recurrence(piece: GridPiece) -> float:
    """Share of non-empty bars after the first that are at least :data:`RECURRENCE_JACCARD` similar to one of
    the :data:`RECURRENCE_LOOKBACK` non-empty bars before them (NaN under 2 non-empty bars)."""
    sets = [s for s in (_bar_set(piece, a, b) for a, b in bars(piece)) if s]
    if len(sets) < 2:
        return math.nan
    recurs = [
        any(len(s & p) / len(s | p) >= RECURRENCE_JACCARD for p in sets[max(0, i - RECURRENCE_LOOKBACK) : i])
        for i, s in enumerate(sets)
        if i > 0
    ]
    return float(np.mean(recurs))


def chord_clarity(piece: GridPiece) -> float:
    """Share of the beats with at least two pitch classes sounding whose pitch classes fit one of
    :data:`CHORDS` (NaN when no beat has two)."""
    window = _merge_ticks(piece)
    clear = []
    for tick in range(0, _length(piece), piece.resolution):
        pcs = {n.pitch % 12 for n in sounding(piece, tick, window)}
        if len(pcs) >= 2:
            clear.append(fits_a_chord(pcs))
    return float(np.mean(clear)) if clear else math.nan


def _is(pcs: set[int], chord: set[int], root: int) -> bool:
    return bool(pcs) and pcs <= chord and root in pcs


def cadence_rate(piece: GridPiece) -> float:
    """Share of phrase ends (every :data:`PHRASE_BARS`-th bar of the piece, complete bars only) that close on the
    tonic, or on the dominant resolved to the tonic at the next downbeat (NaN without a phrase end)."""
    if not piece.notes:
        return math.nan
    try:
        tonic, mode = estimate_key([n.pitch for n in piece.notes], [n.end - n.start for n in piece.notes])
    except ValueError:  # every note of zero length: no key to measure against
        return math.nan
    third = 4 if mode == "major" else 3
    tonic_triad = {tonic, (tonic + third) % 12, (tonic + 7) % 12}
    dominant = (tonic + 7) % 12
    dominant_chord = {dominant, (tonic + 11) % 12, (tonic + 2) % 12, (tonic + 5) % 12}
    if mode == "minor":
        dominant_chord.add((tonic + 10) % 12)
    window = _merge_ticks(piece)
    length = _length(piece)
    spans = bars(piece)
    closes = []
    for i, (start, end) in enumerate(spans):
        if (piece.first_bar + i + 1) % PHRASE_BARS or end > length:
            continue
        onsets = [n.start for n in piece.notes if start <= n.start < end]
        last = {n.pitch % 12 for n in sounding(piece, max(onsets) if onsets else end - 1)}
        after = {n.pitch % 12 for n in sounding(piece, end, window)} if end < length else set()
        closes.append(
            _is(last, tonic_triad, tonic) or (_is(last, dominant_chord, dominant) and _is(after, tonic_triad, tonic))
        )
    return float(np.mean(closes)) if closes else math.nan


def musicality(piece: GridPiece) -> dict[str, float]:
    """All :data:`MUSICALITY` measures of one piece."""
    return {
        "topline_stepwise": topline_stepwise(piece),
        "bar_recurrence": bar_recurrence(piece),
        "chord_clarity": chord_clarity(piece),
        "cadence_rate": cadence_rate(piece),
    }


def set_musicality(pieces: Sequence[GridPiece]) -> dict[str, list[float]]:
    """``measure -> per-piece values`` for a set of pieces."""
    per_piece = [musicality(p) for p in pieces]
    return {name: [m[name] for m in per_piece] for name in MUSICALITY}


def shuffled_in_time(piece: GridPiece, rng: np.random.Generator) -> GridPiece:
    """The trivial reference: the piece's notes, each keeping its pitch and length, moved to another note's
    onset (a random permutation of the onsets): the same rhythm and notes, in no order."""
    onsets = rng.permutation([n.start for n in piece.notes])
    notes = [GridNote(int(o), int(o) + n.end - n.start, n.pitch) for o, n in zip(onsets, piece.notes, strict=True)]
    return GridPiece(
        tuple(sorted(notes, key=lambda n: (n.start, n.pitch))),
        piece.resolution,
        piece.seconds,
        piece.downbeats,
        piece.first_bar,
        piece.ticks,
    )
