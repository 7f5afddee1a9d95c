"""Pieces whose mood changes at bar lines, joined from renderings of one score in different moods.

A rendering of a score keeps one mood from start to end, so a model trained on renderings alone never sees
the music change mood and cannot follow a mood trajectory. Joining renderings of the same score bar by bar
(bars 0-7 of the sad one, bars 8-13 of the happy one, ...) gives pieces whose tempo, mode, loudness and
articulation change where their mood does, with the mood known for every token.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from moodtune.midi.meter import Meter
from moodtune.midi.tokens import BeatTokenizer, NoteEvent, Tokenizer

#: Bars a joined piece stays in one rendering: at least, at most.
MIN_BARS, MAX_BARS = 4, 12


@dataclass(frozen=True)
class Rendering:
    """One rendering of a score: its notes, tempo map and meter, and its mood ``[3]``."""

    notes: list[NoteEvent]
    meter: Meter
    mood: list[float]


@dataclass(frozen=True)
class Part:
    """Bars ``[start, stop)`` of a joined piece, taken from rendering ``source``."""

    source: int
    start: int
    stop: int


def bar_count(r: Rendering, per_beat: int = 4) -> int:
    """Bars up to the last onset of ``r``, on the grid of ``per_beat`` positions per beat."""
    if not r.notes:
        return 0
    last = max(round(r.meter.beats_at(n.start) * per_beat) for n in r.notes)
    return last // (r.meter.beats_per_bar * per_beat) + 1


def draw_parts(renderings: Sequence[Rendering], rng: random.Random) -> list[Part]:
    """Consecutive parts of :data:`MIN_BARS`-:data:`MAX_BARS` bars over the bars every rendering has, each from
    another rendering than the part before; [] when the renderings are too short for two parts."""
    bars = min(bar_count(r) for r in renderings)
    if len(renderings) < 2 or bars < 2 * MIN_BARS:
        return []
    parts: list[Part] = []
    start, source = 0, rng.randrange(len(renderings))
    while start < bars:
        stop = min(bars, start + rng.randint(MIN_BARS, MAX_BARS))
        if not parts:  # at least one change of mood
            stop = min(stop, bars - MIN_BARS)
        if bars - stop < MIN_BARS:
            stop = bars
        parts.append(Part(source, start, stop))
        start = stop
        source = rng.choice([i for i in range(len(renderings)) if i != source])
    return parts


def join(renderings: Sequence[Rendering], parts: Sequence[Part], per_beat: int = 4) -> tuple[list[NoteEvent], Meter]:
    """The notes and tempo map of the piece made of ``parts``: each part plays its bars in its rendering's tempo
    (the tempo that rendering has where the part starts) and the next part starts on the following bar line.

    The renderings must share a meter (beats per bar).
    """
    beats = renderings[0].meter.beats_per_bar
    if any(r.meter.beats_per_bar != beats for r in renderings):
        raise ValueError("renderings of one score with different meters cannot be joined at bar lines")
    changes: list[tuple[float, float]] = []
    meter = Meter(renderings[parts[0].source].meter.bpm_at_beat(0.0), beats)
    for part in parts[1:]:
        at = part.start * beats
        changes.append((meter.seconds_at(at), renderings[part.source].meter.bpm_at_beat(at)))
        meter = Meter(meter.bpm, beats, tuple(changes))
    notes: list[NoteEvent] = []
    per_bar = beats * per_beat
    for part in parts:
        source = renderings[part.source].meter
        for n in renderings[part.source].notes:
            onset = source.beats_at(n.start)
            if part.start <= round(onset * per_beat) // per_bar < part.stop:
                start = meter.seconds_at(onset)
                end = meter.seconds_at(source.beats_at(n.start + n.duration))
                notes.append(NoteEvent(start, end - start, n.pitch, n.velocity))
    return sorted(notes, key=lambda n: (n.start, n.pitch)), meter


def token_moods(tokens: Sequence[str], renderings: Sequence[Rendering], parts: Sequence[Part]) -> np.ndarray:
    """The mood ``[len(tokens), 3]`` of each token of a joined piece: that of the part its bar belongs to, from the
    part's first bar line on (tokens before the first bar take the first part's)."""
    moods = np.empty((len(tokens), 3), dtype=np.float32)
    bar, part = -1, 0
    for i, token in enumerate(tokens):
        if token == "BAR":
            bar += 1
            while part + 1 < len(parts) and bar >= parts[part + 1].start:
                part += 1
        moods[i] = renderings[parts[part].source].mood
    return moods


def joined_pieces(
    renderings: Sequence[Rendering], tokenizer: Tokenizer, count: int, rng: random.Random
) -> list[tuple[list[str], np.ndarray]]:
    """``count`` joined pieces of one score's ``renderings``: ``(tokens, per-token moods [N, 3])`` each; fewer
    (or none) when the renderings are too short, disagree on the meter, have bars longer than the token format
    writes or have no known mood."""
    out: list[tuple[list[str], np.ndarray]] = []
    meters = {r.meter.beats_per_bar for r in renderings}
    if len(meters) != 1 or max(meters) > BeatTokenizer.MAX_BEATS or not all(r.mood[2] for r in renderings):
        return out  # (a longer bar would be written as several, and the moods would change in the wrong one)
    for _ in range(count):
        parts = draw_parts(renderings, rng)
        if not parts:
            break
        notes, meter = join(renderings, parts)
        tokens = tokenizer.encode(notes, meter)
        if tokens:
            out.append((tokens, token_moods(tokens, renderings, parts)))
    return out
