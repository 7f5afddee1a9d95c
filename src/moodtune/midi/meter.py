"""Tempo, meter and tempo maps: where a time in seconds falls in beats, and back.

A :class:`Meter` is a piece's first tempo, its beats per bar and the tempo changes that follow. The
symbolic engine writes music in beats; these functions place it in seconds (and MIDI ticks) and read
performed MIDI back onto the beat grid.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pretty_midi


@dataclass(frozen=True)
class Meter:
    """A piece's tempo (quarter notes per minute), beats (quarter notes) per bar and later tempo changes as
    ``(seconds, bpm)``, in time order."""

    bpm: float = 120.0
    beats_per_bar: int = 4
    changes: tuple[tuple[float, float], ...] = ()

    def segments(self) -> list[tuple[float, float, float]]:
        """``(start seconds, start beat, bpm)`` of each stretch of constant tempo."""
        out = [(0.0, 0.0, self.bpm)]
        for when, bpm in self.changes:
            t0, b0, prev = out[-1]
            out.append((when, b0 + (when - t0) * prev / 60.0, bpm))
        return out

    def beats_at(self, seconds: float) -> float:
        """Quarter notes from the start to ``seconds``."""
        t0, b0, bpm = next(s for s in reversed(self.segments()) if s[0] <= seconds or s[0] == 0.0)
        return b0 + (seconds - t0) * bpm / 60.0

    def seconds_at(self, beats: float) -> float:
        """Inverse of :meth:`beats_at`."""
        t0, b0, bpm = next(s for s in reversed(self.segments()) if s[1] <= beats or s[1] == 0.0)
        return t0 + (beats - b0) * 60.0 / bpm

    def bpm_at_beat(self, beats: float) -> float:
        """The tempo in force at ``beats`` (a change within a sixty-fourth note counts as already made)."""
        return next(s for s in reversed(self.segments()) if s[1] <= beats + 1 / 16 or s[1] == 0.0)[2]


def midi_meter(pm: pretty_midi.PrettyMIDI) -> Meter:
    """The tempo map and first time signature of ``pm`` (120 BPM and 4/4 when it has none); a bar counts quarter
    notes (6/8 is 3 beats). Repeated tempo events that change nothing are dropped."""
    times, tempi = pm.get_tempo_changes()
    bpm = float(tempi[0]) if len(tempi) and tempi[0] > 0 else 120.0
    changes: list[tuple[float, float]] = []
    last = bpm
    for when, tempo in zip(times[1:], tempi[1:], strict=True):
        if tempo > 0 and abs(tempo - last) > 1e-6:
            changes.append((float(when), float(tempo)))
            last = float(tempo)
    beats = 4
    if pm.time_signature_changes:
        ts = pm.time_signature_changes[0]
        beats = max(1, round(ts.numerator * 4 / ts.denominator))
    return Meter(bpm, beats, tuple(changes))


def set_tempo_map(pm: pretty_midi.PrettyMIDI, bpm: float, changes: Sequence[tuple[float, float]]) -> None:
    """Give an (empty or filled) ``pm`` the tempo ``bpm`` from the start and ``changes`` (``(seconds, bpm)``)
    afterwards, so its notes are written on the ticks of that map and a score shows them on the beat."""
    scales = [(0, 60.0 / (bpm * pm.resolution))]
    last_time = 0.0
    for when, tempo in changes:
        tick0, scale0 = scales[-1]
        tick = tick0 + round((when - last_time) / scale0)
        if tick == tick0:
            scales[-1] = (tick0, 60.0 / (tempo * pm.resolution))
        else:
            scales.append((tick, 60.0 / (tempo * pm.resolution)))
        last_time = last_time + (tick - tick0) * scale0
    pm._tick_scales = scales  # pretty_midi keeps its tempo map here and writes it out
    pm._update_tick_to_time(scales[-1][0] + 1)
