"""Split a piece's notes into its melody, accompaniment and bass, the three tracks of a generated MIDI file
(:func:`moodtune.midi.tokens.tracks_to_midi` writes them).

The split reads the notes as a listener would (a skyline): at each onset the highest note is the melody's,
unless the melody's last note is still sounding above it; the lowest other note of the onset is the bass's when
it lies below middle C and under the bass's last note if that still sounds; everything else accompanies.
Durations are kept, so the tracks sound together exactly as the notes did.
"""

from __future__ import annotations

from collections.abc import Sequence

from moodtune.midi.tokens import NoteEvent

#: The tracks of a generated piece, top to bottom.
TRACKS = ("melody", "accompaniment", "bass")
#: Notes whose onsets lie this close (s) start together.
ONSET_TOLERANCE = 0.03
#: A note below this MIDI pitch (middle C) may be the bass.
BASS_BELOW = 60


def _onsets(notes: Sequence[NoteEvent]) -> list[list[NoteEvent]]:
    """``notes`` grouped by onset (each group's notes start within :data:`ONSET_TOLERANCE` of its first)."""
    groups: list[list[NoteEvent]] = []
    for n in sorted(notes, key=lambda n: (n.start, -n.pitch)):
        if groups and n.start - groups[-1][0].start <= ONSET_TOLERANCE:
            groups[-1].append(n)
        else:
            groups.append([n])
    return groups


def _sounding(note: NoteEvent | None, time: float) -> NoteEvent | None:
    """``note`` if it still sounds at ``time`` (beyond the onset tolerance), else None."""
    return note if note is not None and note.start + note.duration > time + ONSET_TOLERANCE else None


def split_voices(notes: Sequence[NoteEvent]) -> dict[str, list[NoteEvent]]:
    """``{"melody": [...], "accompaniment": [...], "bass": [...]}``: every note of ``notes`` in exactly one
    track (see the module's rule), each track sorted by onset."""
    out: dict[str, list[NoteEvent]] = {name: [] for name in TRACKS}
    melody: NoteEvent | None = None  # the melody's and the bass's last notes
    bass: NoteEvent | None = None
    for group in _onsets(notes):
        group = sorted(group, key=lambda n: -n.pitch)
        start = group[0].start
        rest = group
        held = _sounding(melody, start)
        if held is None or group[0].pitch >= held.pitch:
            melody, rest = group[0], group[1:]
            out["melody"].append(melody)
        held = _sounding(bass, start)
        if rest and rest[-1].pitch < BASS_BELOW and (held is None or rest[-1].pitch <= held.pitch):
            bass, rest = rest[-1], rest[:-1]
            out["bass"].append(bass)
        out["accompaniment"].extend(rest)
    for name in TRACKS:
        out[name].sort(key=lambda n: (n.start, n.pitch))
    return out
