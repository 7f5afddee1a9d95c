"""Instruments by name: the General MIDI programs a generated piece's tracks are played by.

An instrument is given as a short name (``piano``, ``strings``, ``bass``: :data:`INSTRUMENTS`), as a General MIDI
program name (``"Acoustic Grand Piano"``, case and spaces free) or as a program number 0-127.
"""

from __future__ import annotations

import pretty_midi

from moodtune.errors import MoodtuneError
from moodtune.midi.voices import TRACKS

#: Short instrument names and their General MIDI programs (0-based).
INSTRUMENTS: dict[str, int] = {
    "piano": 0,
    "bright-piano": 1,
    "electric-piano": 4,
    "harpsichord": 6,
    "celesta": 8,
    "vibraphone": 11,
    "marimba": 12,
    "organ": 19,
    "accordion": 21,
    "guitar": 24,
    "steel-guitar": 25,
    "electric-guitar": 27,
    "bass": 32,
    "electric-bass": 33,
    "synth-bass": 38,
    "violin": 40,
    "viola": 41,
    "cello": 42,
    "contrabass": 43,
    "harp": 46,
    "timpani": 47,
    "strings": 48,
    "slow-strings": 49,
    "choir": 52,
    "trumpet": 56,
    "trombone": 57,
    "tuba": 58,
    "horn": 60,
    "brass": 61,
    "saxophone": 65,
    "oboe": 68,
    "bassoon": 70,
    "clarinet": 71,
    "piccolo": 72,
    "flute": 73,
    "recorder": 74,
    "pad": 89,
}


def _squash(name: str) -> str:
    return "".join(ch for ch in name.lower() if ch.isalnum())


_GM_NAMES = {_squash(pretty_midi.program_to_instrument_name(p)): p for p in range(128)}
_SHORT_NAMES = {_squash(name): p for name, p in INSTRUMENTS.items()}


def program_of(name: str) -> int:
    """The General MIDI program (0-127) of an instrument name, GM program name or number; MoodtuneError otherwise."""
    text = name.strip()
    if text.isdigit():
        if 0 <= int(text) <= 127:
            return int(text)
        raise MoodtuneError(f"instrument {text}: a General MIDI program number lies in 0-127")
    key = _squash(text)
    if key in _SHORT_NAMES:
        return _SHORT_NAMES[key]
    if key in _GM_NAMES:
        return _GM_NAMES[key]
    raise MoodtuneError(
        f"unknown instrument {name!r}: give one of {', '.join(INSTRUMENTS)}, a General MIDI program name "
        "(e.g. 'String Ensemble 1') or a program number 0-127"
    )


def parse_instruments(text: str) -> dict[str, int]:
    """``"piano,strings,bass"`` -> the program of each track (:data:`~moodtune.midi.voices.TRACKS`, top to
    bottom). One instrument plays every track; two play the melody and the rest; three, one track each."""
    names = text.split(",")
    if not 1 <= len(names) <= len(TRACKS) or any(not n.strip() for n in names):
        raise MoodtuneError(
            f"instruments {text!r}: give one to three comma-separated instruments, for the "
            f"{', '.join(TRACKS)} (one plays all; two play the melody and the rest)"
        )
    programs = [program_of(n) for n in names]
    if len(programs) == 2:
        programs.append(programs[1])
    return dict(zip(TRACKS, programs + [programs[-1]] * (len(TRACKS) - len(programs)), strict=True))


_LABELS = {p: name for name, p in INSTRUMENTS.items()}


def instrument_label(program: int) -> str:
    """A program's short name where it has one, else its General MIDI name."""
    return _LABELS.get(program) or pretty_midi.program_to_instrument_name(program)


def ensemble(programs: tuple[int, ...]) -> dict[str, int]:
    """The tracks' programs for an ensemble whose parts (top to bottom) play ``programs``: the top part plays
    the melody, a middle one the accompaniment, the lowest the bass."""
    if not programs:
        raise ValueError("an ensemble needs at least one program")
    return {"melody": programs[0], "accompaniment": programs[len(programs) // 2], "bass": programs[-1]}
