"""MIDI <-> token sequences for the symbolic engine.

Three vocabularies:

* ``notes`` (the classic format): one token per onset. A single note is its pitch name (``C4``, ``F#3``),
  and a chord is the normal order of its pitch classes (``4.7.11``). Decoded notes get a fixed
  length (half a beat at 120 BPM) and a fixed velocity, so rhythm and dynamics are lost.
* ``timed`` (default): an event vocabulary in the spirit of Performance RNN and REMI, on a grid
  of ``step`` seconds (50 ms). Per note: an optional ``VEL_b`` (16 velocity bins, emitted only
  when the bin changes), ``PITCH_p`` (21..108), then ``DUR_d`` (1..64 steps). Between onsets
  come ``SHIFT_s`` tokens (1..32 steps; longer rests take several). A round trip keeps pitches,
  and keeps onsets and durations within half a step.
* ``beats``: a bar-and-beat vocabulary (REMI-like). A piece opens with its tempo (``TEMPO_t``, 14 bins)
  and meter (``METER_n``, beats per bar); each bar starts with ``BAR``, each onset with its position in
  the bar (``POS_k``, sixteenth notes), then per note an optional ``VEL_b``, ``PITCH_p`` and ``DUR_d``
  (1..64 sixteenths). Time is musical, so the model sees beats, bars and phrases; a round trip keeps
  pitches, and onsets and durations to the sixteenth-note grid.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import pretty_midi

from moodtune.errors import MidiReadError
from moodtune.midi.meter import Meter as Meter  # the meter is part of what tokens are encoded with
from moodtune.midi.meter import midi_meter as midi_meter
from moodtune.midi.meter import set_tempo_map

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
SPECIALS = (PAD, BOS, EOS)

_PITCH_NAMES = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "G#", "A", "B-", "B")
_NAME_TO_PC = {"C": 0, "C#": 1, "D-": 1, "D": 2, "D#": 3, "E-": 3, "E": 4, "F": 5, "F#": 6, "G-": 6, "G": 7}
_NAME_TO_PC.update({"G#": 8, "A-": 8, "A": 9, "A#": 10, "B-": 10, "B": 11})


@dataclass(frozen=True)
class NoteEvent:
    """A note: onset and duration in seconds, MIDI pitch and velocity."""

    start: float
    duration: float
    pitch: int
    velocity: int


def midi_notes(pm: pretty_midi.PrettyMIDI) -> list[NoteEvent]:
    """All non-drum notes of ``pm``, sorted by onset then pitch."""
    notes = [
        NoteEvent(n.start, n.end - n.start, n.pitch, n.velocity)
        for inst in pm.instruments
        if not inst.is_drum
        for n in inst.notes
        if n.end > n.start
    ]
    return sorted(notes, key=lambda n: (n.start, n.pitch))


def notes_to_midi(
    notes: Sequence[NoteEvent],
    program: int = 0,
    tempo: float = 120.0,
    beats_per_bar: int | None = None,
    tempo_changes: Sequence[tuple[float, float]] = (),
) -> pretty_midi.PrettyMIDI:
    """One-instrument MIDI of ``notes`` (see :func:`tracks_to_midi`)."""
    return tracks_to_midi({"": notes}, {"": program}, tempo, beats_per_bar, tempo_changes)


def tracks_to_midi(
    tracks: dict[str, Sequence[NoteEvent]],
    programs: dict[str, int],
    tempo: float = 120.0,
    beats_per_bar: int | None = None,
    tempo_changes: Sequence[tuple[float, float]] = (),
) -> pretty_midi.PrettyMIDI:
    """MIDI with one track per non-empty entry of ``tracks``, named by its key and played by ``programs[name]``
    (General MIDI, 0-127); a ``beats_per_bar``/4 time signature when given and the tempo map ``tempo`` then
    ``tempo_changes`` (``(seconds, bpm)``), so scores show the bars and beats the notes were generated in."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    if tempo_changes:
        set_tempo_map(pm, tempo, tempo_changes)
    if beats_per_bar is not None:
        pm.time_signature_changes.append(pretty_midi.TimeSignature(beats_per_bar, 4, 0.0))
    for name, part in tracks.items():
        if not part:
            continue
        inst = pretty_midi.Instrument(program=programs[name], name=name)
        inst.notes = [pretty_midi.Note(int(n.velocity), int(n.pitch), n.start, n.start + n.duration) for n in part]
        pm.instruments.append(inst)
    return pm


def normal_order(pitch_classes: Sequence[int]) -> list[int]:
    """Normal order of a pitch-class set: the rotation with the smallest span, ties broken from the bottom (Rahn)."""
    pcs = sorted({p % 12 for p in pitch_classes})
    if len(pcs) <= 1:
        return pcs
    rotations = [pcs[i:] + pcs[:i] for i in range(len(pcs))]

    def key(rot: list[int]) -> tuple[int, ...]:
        return tuple((rot[-k] - rot[0]) % 12 for k in range(1, len(rot)))

    return min(rotations, key=key)


def pitch_name(pitch: int) -> str:
    """``60 -> "C4"`` (music21 spelling: sharps for C#, F#, G#; flats for E-, B-)."""
    return f"{_PITCH_NAMES[pitch % 12]}{pitch // 12 - 1}"


def parse_pitch_name(name: str) -> int:
    """Inverse of :func:`pitch_name` (accepts either accidental)."""
    i = len(name) - 1
    while i > 0 and (name[i].isdigit() or (name[i] == "-" and name[i - 1].isdigit())):
        i -= 1
    letters, octave = name[: i + 1], int(name[i + 1 :])
    return _NAME_TO_PC[letters] + 12 * (octave + 1)


class Tokenizer(ABC):
    """Common interface: ``encode(notes) -> tokens``, ``decode(tokens) -> notes``, a vocabulary, and time per token."""

    kind = ""

    def __init__(self, vocabulary: Sequence[str]) -> None:
        self.vocabulary = list(vocabulary)
        self.index = {t: i for i, t in enumerate(self.vocabulary)}

    @abstractmethod
    def encode(self, notes: Sequence[NoteEvent], meter: Meter | None = None) -> list[str]:
        """Notes -> tokens; ``meter`` places them in bars (formats that know no bars ignore it)."""

    @abstractmethod
    def decode(self, tokens: Sequence[str]) -> list[NoteEvent]:
        """Tokens -> notes (tokens that make no note are skipped)."""

    @abstractmethod
    def clock(self) -> Callable[[str], float]:
        """A function fed the tokens in order, answering the time (s) reached after each (used to follow a mood
        trajectory while generating)."""

    def duration(self, tokens: Sequence[str]) -> float:
        """The time (s) reached after ``tokens``."""
        advance, now = self.clock(), 0.0
        for t in tokens:
            now = advance(t)
        return now

    def meter_of(self, tokens: Sequence[str]) -> Meter:
        """The tempo and meter decoded notes are written with."""
        return Meter()

    def closed_by(self, token: str) -> list[str]:
        """Tokens that may no longer follow once ``token`` has been written (generation masks them)."""
        return []

    def banned_after(self, token: str) -> list[str]:
        """Tokens that may not come right after ``token`` (generation masks them for one step)."""
        return []

    def ids(self, tokens: Sequence[str]) -> list[int]:
        """Token ids; MidiReadError lists tokens this vocabulary does not have."""
        unknown = sorted({t for t in tokens if t not in self.index})
        if unknown:
            raise MidiReadError(
                f"{len(unknown)} token(s) unknown to this vocabulary (e.g. {', '.join(unknown[:5])}): "
                "the MIDI and the checkpoint do not match"
            )
        return [self.index[t] for t in tokens]

    def to_dict(self) -> dict[str, object]:
        """What a checkpoint stores to rebuild this tokenizer."""
        return {"kind": self.kind, "vocabulary": self.vocabulary}


def _summing_clock(seconds_of: Callable[[str], float]) -> Callable[[str], float]:
    """A clock for formats where each token moves time on by ``seconds_of(token)``."""
    now = 0.0

    def advance(token: str) -> float:
        nonlocal now
        now += seconds_of(token)
        return now

    return advance


VELOCITY_BINS = 16


def velocity_bin(velocity: int) -> int:
    """Which of :data:`VELOCITY_BINS` equal bins of 0..127 a velocity falls in."""
    return min(VELOCITY_BINS - 1, max(0, int(velocity)) * VELOCITY_BINS // 128)


def bin_velocity(b: int) -> int:
    """Centre velocity of bin ``b``."""
    width = 128 // VELOCITY_BINS
    return min(127, b * width + width // 2)


class TimedTokenizer(Tokenizer):
    """Pitch, duration, velocity and time-shift events on a grid of ``step`` seconds."""

    kind = "timed"
    MIN_PITCH, MAX_PITCH = 21, 108
    MAX_SHIFT, MAX_DUR = 32, 64
    VELOCITY_BINS = VELOCITY_BINS

    def __init__(self, step: float = 0.05, vocabulary: Sequence[str] | None = None) -> None:
        self.step = step
        vocab = [
            *SPECIALS,
            *(f"SHIFT_{i}" for i in range(1, self.MAX_SHIFT + 1)),
            *(f"VEL_{i}" for i in range(self.VELOCITY_BINS)),
            *(f"PITCH_{p}" for p in range(self.MIN_PITCH, self.MAX_PITCH + 1)),
            *(f"DUR_{i}" for i in range(1, self.MAX_DUR + 1)),
        ]
        super().__init__(vocabulary or vocab)

    def encode(self, notes: Sequence[NoteEvent], meter: Meter | None = None) -> list[str]:
        tokens: list[str] = []
        now, vel = 0, None
        for n in sorted(notes, key=lambda n: (n.start, n.pitch)):
            if not self.MIN_PITCH <= n.pitch <= self.MAX_PITCH:
                continue
            onset = round(n.start / self.step)
            gap = onset - now
            while gap > 0:
                s = min(gap, self.MAX_SHIFT)
                tokens.append(f"SHIFT_{s}")
                gap -= s
            now = max(now, onset)
            b = velocity_bin(n.velocity)
            if b != vel:
                tokens.append(f"VEL_{b}")
                vel = b
            dur = min(self.MAX_DUR, max(1, round(n.duration / self.step)))
            tokens += [f"PITCH_{n.pitch}", f"DUR_{dur}"]
        return tokens

    def decode(self, tokens: Sequence[str]) -> list[NoteEvent]:
        notes, now, vel, pitch = [], 0, bin_velocity(VELOCITY_BINS // 2), None
        for tok in tokens:
            kind, _, value = tok.partition("_")
            if kind == "SHIFT":
                now += int(value)
                pitch = None
            elif kind == "VEL":
                vel = bin_velocity(int(value))
            elif kind == "PITCH":
                pitch = int(value)
            elif kind == "DUR" and pitch is not None:
                notes.append(NoteEvent(now * self.step, int(value) * self.step, pitch, vel))
                pitch = None
        return notes

    def clock(self) -> Callable[[str], float]:
        return _summing_clock(lambda t: int(t[6:]) * self.step if t.startswith("SHIFT_") else 0.0)

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "step": self.step}


class NotesTokenizer(Tokenizer):
    """The classic vocabulary: one token per onset, pitch names for notes, normal orders for chords."""

    kind = "notes"
    #: Decoded tokens sound for, and are spaced by, this many seconds (an eighth note at 120 BPM).
    TOKEN_SECONDS = 0.25
    VELOCITY = 80

    def __init__(self, vocabulary: Sequence[str] | None = None, onset_tolerance: float = 0.02) -> None:
        super().__init__(vocabulary or list(SPECIALS))
        self.onset_tolerance = onset_tolerance

    def encode(self, notes: Sequence[NoteEvent], meter: Meter | None = None) -> list[str]:
        groups: list[list[int]] = []
        last = -math.inf
        for n in sorted(notes, key=lambda n: (n.start, n.pitch)):
            if n.start - last > self.onset_tolerance:
                groups.append([])
                last = n.start
            groups[-1].append(n.pitch)
        return [pitch_name(g[0]) if len(set(g)) == 1 else ".".join(map(str, normal_order(g))) for g in groups]

    def decode(self, tokens: Sequence[str]) -> list[NoteEvent]:
        notes = []
        for i, tok in enumerate(t for t in tokens if t not in SPECIALS):
            start = i * self.TOKEN_SECONDS
            if "." in tok or tok.isdigit():
                for pc in map(int, tok.split(".")):
                    notes.append(NoteEvent(start, self.TOKEN_SECONDS, 60 + pc, self.VELOCITY))
            else:
                notes.append(NoteEvent(start, self.TOKEN_SECONDS, parse_pitch_name(tok), self.VELOCITY))
        return notes

    def clock(self) -> Callable[[str], float]:
        return _summing_clock(lambda t: 0.0 if t in SPECIALS else self.TOKEN_SECONDS)

    def fit(self, token_lists: Sequence[Sequence[str]]) -> NotesTokenizer:
        """Vocabulary = specials + every token seen (sorted)."""
        seen = sorted({t for tokens in token_lists for t in tokens})
        return NotesTokenizer([*SPECIALS, *seen], self.onset_tolerance)


class BeatTokenizer(Tokenizer):
    """Bars, positions on a sixteenth-note grid, pitch, duration and velocity, in the piece's meter.

    With ``bar_tempo`` (what new models train on) every bar opens with its tempo (``BAR TEMPO_t``), so a piece
    can speed up or slow down at any bar line, as its mood asks; without it (models trained before) the tempo is
    the piece's header, written once before the first bar.
    """

    kind = "beats"
    PER_BEAT = 4  # grid positions per quarter note
    MIN_PITCH, MAX_PITCH = 21, 108
    MAX_DUR, MAX_BEATS = 64, 7
    VELOCITY_BINS = VELOCITY_BINS
    TEMPI = (40, 48, 56, 64, 72, 80, 92, 104, 116, 128, 144, 160, 184, 208)

    def __init__(self, vocabulary: Sequence[str] | None = None, bar_tempo: bool = True) -> None:
        vocab = [
            *SPECIALS,
            *(f"TEMPO_{t}" for t in self.TEMPI),
            *(f"METER_{n}" for n in range(1, self.MAX_BEATS + 1)),
            "BAR",
            *(f"POS_{k}" for k in range(self.MAX_BEATS * self.PER_BEAT)),
            *(f"VEL_{i}" for i in range(self.VELOCITY_BINS)),
            *(f"PITCH_{p}" for p in range(self.MIN_PITCH, self.MAX_PITCH + 1)),
            *(f"DUR_{i}" for i in range(1, self.MAX_DUR + 1)),
        ]
        super().__init__(vocabulary or vocab)
        self.bar_tempo = bar_tempo
        self._tempi = [t for t in self.vocabulary if t.startswith("TEMPO_")]
        self._meters = [t for t in self.vocabulary if t.startswith("METER_")]
        self._not_tempo = [t for t in self.vocabulary if not t.startswith("TEMPO_")]
        self._not_bar = [t for t in self.vocabulary if t != "BAR"]
        self._not_opening = [t for t in self._not_bar if not t.startswith("METER_")]

    def tempo_token(self, bpm: float) -> str:
        """The ``TEMPO_t`` token nearest to ``bpm`` (on a log scale)."""
        return f"TEMPO_{min(self.TEMPI, key=lambda t: abs(math.log(t / bpm)))}"

    def encode(self, notes: Sequence[NoteEvent], meter: Meter | None = None) -> list[str]:
        """Notes -> tokens. Onsets and durations are read on the beat grid of ``meter``'s tempo map (with
        ``bar_tempo``), or of its first tempo alone."""
        meter = meter or Meter()
        if not self.bar_tempo:
            meter = Meter(meter.bpm, meter.beats_per_bar)
        beats = min(self.MAX_BEATS, max(1, meter.beats_per_bar))
        per_bar = beats * self.PER_BEAT
        tokens = [f"METER_{beats}"] if self.bar_tempo else [self.tempo_token(meter.bpm), f"METER_{beats}"]
        bar, pos, vel = -1, None, None
        for n in sorted(notes, key=lambda n: (n.start, n.pitch)):
            if not self.MIN_PITCH <= n.pitch <= self.MAX_PITCH:
                continue
            start = meter.beats_at(n.start)
            onset = max(0, round(start * self.PER_BEAT))
            while bar < onset // per_bar:
                bar, pos = bar + 1, None
                tokens.append("BAR")
                if self.bar_tempo:
                    tokens.append(self.tempo_token(meter.bpm_at_beat(bar * beats)))
            if onset % per_bar != pos:
                pos = onset % per_bar
                tokens.append(f"POS_{pos}")
            b = velocity_bin(n.velocity)
            if b != vel:
                tokens.append(f"VEL_{b}")
                vel = b
            length = (meter.beats_at(n.start + n.duration) - start) * self.PER_BEAT
            dur = min(self.MAX_DUR, max(1, round(length)))
            tokens += [f"PITCH_{n.pitch}", f"DUR_{dur}"]
        return tokens

    def _position(self) -> _BarPosition:
        return _BarPosition(self.PER_BEAT, follow_tempo=self.bar_tempo)

    def _walk(self, tokens: Sequence[str], meter: Meter) -> Iterator[tuple[str, float, float]]:
        """``(token, onset time of the current position, its beat)`` for each token; ``meter`` is
        :meth:`meter_of` ``tokens``. Without ``bar_tempo`` the piece's header (its last tempo and meter) holds from
        the start."""
        where = self._position() if self.bar_tempo else _BarPosition(self.PER_BEAT, meter)
        for tok in tokens:
            yield tok, where.step(tok), where.beat()

    def decode(self, tokens: Sequence[str]) -> list[NoteEvent]:
        """Tokens -> notes; a note's end is read on the tempo map, so a note held over a tempo change ends on
        its beat."""
        meter = self.meter_of(tokens)
        notes, vel, pitch = [], bin_velocity(VELOCITY_BINS // 2), None
        for tok, now, beat in self._walk(tokens, meter):
            kind, _, value = tok.partition("_")
            if kind == "VEL":
                vel = bin_velocity(int(value))
            elif kind == "PITCH":
                pitch = int(value)
            elif kind == "DUR" and pitch is not None:
                end = meter.seconds_at(beat + int(value) / self.PER_BEAT)
                notes.append(NoteEvent(now, end - now, pitch, vel))
                pitch = None
            elif kind in ("BAR", "POS"):
                pitch = None
        return notes

    def clock(self) -> Callable[[str], float]:
        return self._position().step

    def meter_of(self, tokens: Sequence[str]) -> Meter:
        """The first tempo, the meter and (with ``bar_tempo``) the tempo changes of ``tokens``."""
        where = self._position()
        for t in tokens:
            where.step(t)
        return where.meter()

    def closed_by(self, token: str) -> list[str]:
        """The meter (and, without ``bar_tempo``, the tempo) open a piece: after its first bar they are not
        written again. With ``bar_tempo``, a meter of n beats closes the positions past a bar of n beats."""
        if self.bar_tempo and token.startswith("METER_"):
            return [
                f"POS_{k}" for k in range(int(token.partition("_")[2]) * self.PER_BEAT, self.MAX_BEATS * self.PER_BEAT)
            ]
        if token != "BAR":
            return []
        return self._meters if self.bar_tempo else self._tempi + self._meters

    def banned_after(self, token: str) -> list[str]:
        """With ``bar_tempo``: a piece opens with its meter (or at once with a bar line) and the first bar line
        follows, so every note lies in a bar with a tempo; a tempo comes right after each bar line and nowhere
        else."""
        if not self.bar_tempo:
            return []
        if token == BOS:
            return self._not_opening
        if token.startswith("METER_"):
            return self._not_bar
        return self._not_tempo if token == "BAR" else self._tempi

    def to_dict(self) -> dict[str, object]:
        return {**super().to_dict(), "bar_tempo": self.bar_tempo}


class _BarPosition:
    """Where a ``beats`` token sequence has got to: tempo, meter, bar, position and the time reached. The meter is
    the piece's header (tokens of it after the first bar are ignored); the tempo is too, unless ``follow_tempo``
    lets a tempo token change it from its bar's line (positions then stay inside their bar, so no onset comes
    before the bar line it follows). A given ``meter`` fixes both."""

    def __init__(self, per_beat: int, meter: Meter | None = None, follow_tempo: bool = False) -> None:
        self.per_beat, self.bar, self.pos = per_beat, -1, 0
        self.fixed, self.follow = meter is not None, follow_tempo and meter is None
        self.bpm, self.beats = (meter.bpm, meter.beats_per_bar) if meter is not None else (120.0, 4)
        self.anchor_time, self.anchor_grid = 0.0, 0  # time and grid position of the last tempo change
        self.changes: list[tuple[float, float]] = []  # (seconds, bpm) of each tempo change read

    def _grid(self) -> int:
        return max(self.bar, 0) * self.beats * self.per_beat + self.pos

    def beat(self) -> float:
        """Quarter notes from the start of the first bar to the current position."""
        return self._grid() / self.per_beat

    def _time(self) -> float:
        return self.anchor_time + (self._grid() - self.anchor_grid) * 60.0 / self.bpm / self.per_beat

    def step(self, token: str) -> float:
        """Read ``token``; returns the onset time (s) of the current position."""
        kind, _, value = token.partition("_")
        header = self.bar < 0 and not self.fixed
        if kind == "TEMPO" and header:  # the piece's tempo from its start
            self.anchor_time, self.anchor_grid, self.bpm = 0.0, 0, float(value)
            self.changes = [(0.0, self.bpm)]
        elif kind == "TEMPO" and self.follow:  # holds from its bar line, where the grammar writes it
            start = max(self.bar, 0) * self.beats * self.per_beat
            self.anchor_time += (start - self.anchor_grid) * 60.0 / self.bpm / self.per_beat
            self.anchor_grid, self.bpm = start, float(value)
            if self.changes and self.changes[-1][0] == self.anchor_time:  # a second tempo at one bar line
                self.changes.pop()
            if not self.changes or self.changes[-1][1] != self.bpm:
                self.changes.append((self.anchor_time, self.bpm))
        elif kind == "METER" and header:
            self.beats = int(value)
        elif token == "BAR":
            self.bar, self.pos = self.bar + 1, 0
        elif kind == "POS":
            self.pos = min(int(value), self.beats * self.per_beat - 1) if self.follow else int(value)
        return self._time()

    def meter(self) -> Meter:
        """The first tempo, the meter and the tempo changes read so far."""
        at_start = [bpm for when, bpm in self.changes if when == 0]
        first = at_start[-1] if at_start else (self.bpm if self.fixed else 120.0)
        return Meter(first, self.beats, tuple(c for c in self.changes if c[0] > 0))


def make_tokenizer(kind: str) -> Tokenizer:
    """An empty tokenizer of ``kind`` (``notes`` vocabularies are fitted on the training data)."""
    if kind == "timed":
        return TimedTokenizer()
    if kind == "notes":
        return NotesTokenizer()
    if kind == "beats":
        return BeatTokenizer()
    raise ValueError(f"unknown token format {kind!r}; choose timed, beats or notes")


def tokenizer_from_dict(d: dict[str, object]) -> Tokenizer:
    """Rebuild a tokenizer stored in a checkpoint."""
    if d["kind"] == "timed":
        return TimedTokenizer(step=float(d["step"]), vocabulary=list(d["vocabulary"]))  # type: ignore[arg-type]
    if d["kind"] == "notes":
        return NotesTokenizer(vocabulary=list(d["vocabulary"]))  # type: ignore[arg-type]
    if d["kind"] == "beats":  # models from before per-bar tempi have no "bar_tempo"
        return BeatTokenizer(vocabulary=list(d["vocabulary"]), bar_tempo=bool(d.get("bar_tempo", False)))  # type: ignore[arg-type]
    raise ValueError(f"unknown token format {d['kind']!r}")
