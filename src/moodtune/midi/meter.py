"""Tempo, meter and tempo maps: where a time in seconds falls in beats, and back.

A :class:`Meter` is a piece's first tempo, its beats per bar and the tempo changes that follow. The
symbolic engine writes music in beats; these functions place it in seconds (and MIDI ticks) and read
performed MIDI back onto the beat grid.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import pretty_midi


@dataclass(frozen=True)
class Meter:
    """A piece's tempo (quarter notes per minute), beats (quarter notes) per bar and later tempo changes as
    ``(seconds, bpm)``, in time order."""

    bpm: float = 120.0
    beats_per_bar: int = 4
    changes: tuple[tuple[float, float], ...] = ()

    @cached_property
    def _segments(self) -> tuple[list[float], list[float], list[float]]:
        """Start seconds, start beats and bpm of each stretch of constant tempo (computed once per meter)."""
        times, beats, tempi = [0.0], [0.0], [self.bpm]
        for when, bpm in self.changes:
            beats.append(beats[-1] + (when - times[-1]) * tempi[-1] / 60.0)
            times.append(when)
            tempi.append(bpm)
        return times, beats, tempi

    def beats_at(self, seconds: float) -> float:
        """Quarter notes from the start to ``seconds``."""
        times, beats, tempi = self._segments
        i = max(0, bisect_right(times, seconds) - 1)
        return beats[i] + (seconds - times[i]) * tempi[i] / 60.0

    def seconds_at(self, beats: float) -> float:
        """Inverse of :meth:`beats_at`."""
        times, starts, tempi = self._segments
        i = max(0, bisect_right(starts, beats) - 1)
        return times[i] + (beats - starts[i]) * 60.0 / tempi[i]

    def bpm_at_beat(self, beats: float) -> float:
        """The tempo in force at ``beats`` (a change within a sixty-fourth note counts as already made)."""
        _, starts, tempi = self._segments
        return tempi[max(0, bisect_right(starts, beats + 1 / 16) - 1)]


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
