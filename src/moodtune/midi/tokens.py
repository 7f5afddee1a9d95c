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

PAD, BOS, EOS = "<pad>", "<bos>", "<eos>"
SPECIALS = (PAD, BOS, EOS)

_PITCH_NAMES = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "G#", "A", "B-", "B")
_NAME_TO_PC = {"C": 0, "C#": 1, "D-": 1, "D": 2, "D#": 3, "E-": 3, "E": 4, "F": 5, "F#": 6, "G-": 6, "G": 7}
_NAME_TO_PC.update({"G#": 8, "A-": 8, "A": 9, "A#": 10, "B-": 10, "B": 11})


@dataclass(frozen=True)
class Meter:
    """A piece's tempo (quarter notes per minute) and beats (quarter notes) per bar."""

    bpm: float = 120.0
    beats_per_bar: int = 4


def midi_meter(pm: pretty_midi.PrettyMIDI) -> Meter:
    """The first tempo and time signature of ``pm`` (120 BPM and 4/4 when it has none); a bar counts quarter
    notes (6/8 is 3 beats)."""
    _, tempi = pm.get_tempo_changes()
    bpm = float(tempi[0]) if len(tempi) and tempi[0] > 0 else 120.0
    beats = 4
    if pm.time_signature_changes:
        ts = pm.time_signature_changes[0]
        beats = max(1, round(ts.numerator * 4 / ts.denominator))
    return Meter(bpm, beats)


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
    notes: Sequence[NoteEvent], program: int = 0, tempo: float = 120.0, beats_per_bar: int | None = None
) -> pretty_midi.PrettyMIDI:
    """One-instrument MIDI of ``notes``, with a ``beats_per_bar``/4 time signature when given (scores then
    show the bars the notes were generated in)."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    if beats_per_bar is not None:
        pm.time_signature_changes.append(pretty_midi.TimeSignature(beats_per_bar, 4, 0.0))
    inst = pretty_midi.Instrument(program=program)
    for n in notes:
        inst.notes.append(pretty_midi.Note(int(n.velocity), int(n.pitch), float(n.start), float(n.start + n.duration)))
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
    def seconds_of(self, token: str) -> float:
        """How far a token moves time forward, where that depends on the token alone."""

    def clock(self) -> Callable[[str], float]:
        """A function fed the tokens in order, answering the time (s) reached after each (used to follow a mood
        trajectory while generating)."""
        now = 0.0

        def advance(token: str) -> float:
            nonlocal now
            now += self.seconds_of(token)
            return now

        return advance

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

    def seconds_of(self, token: str) -> float:
        return int(token[6:]) * self.step if token.startswith("SHIFT_") else 0.0

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

    def seconds_of(self, token: str) -> float:
        return 0.0 if token in SPECIALS else self.TOKEN_SECONDS

    def fit(self, token_lists: Sequence[Sequence[str]]) -> NotesTokenizer:
        """Vocabulary = specials + every token seen (sorted)."""
        seen = sorted({t for tokens in token_lists for t in tokens})
        return NotesTokenizer([*SPECIALS, *seen], self.onset_tolerance)


class BeatTokenizer(Tokenizer):
    """Bars, positions on a sixteenth-note grid, pitch, duration and velocity, after the piece's tempo and meter."""

    kind = "beats"
    PER_BEAT = 4  # grid positions per quarter note
    MIN_PITCH, MAX_PITCH = 21, 108
    MAX_DUR, MAX_BEATS = 64, 7
    VELOCITY_BINS = VELOCITY_BINS
    TEMPI = (40, 48, 56, 64, 72, 80, 92, 104, 116, 128, 144, 160, 184, 208)

    def __init__(self, vocabulary: Sequence[str] | None = None) -> None:
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

    def encode(self, notes: Sequence[NoteEvent], meter: Meter | None = None) -> list[str]:
        meter = meter or Meter()
        tempo = min(self.TEMPI, key=lambda t: abs(math.log(t / meter.bpm)))
        beats = min(self.MAX_BEATS, max(1, meter.beats_per_bar))
        unit = 60.0 / meter.bpm / self.PER_BEAT  # seconds per grid step, at the piece's own tempo
        per_bar = beats * self.PER_BEAT
        tokens = [f"TEMPO_{tempo}", f"METER_{beats}"]
        bar, pos, vel = -1, None, None
        for n in sorted(notes, key=lambda n: (n.start, n.pitch)):
            if not self.MIN_PITCH <= n.pitch <= self.MAX_PITCH:
                continue
            onset = max(0, round(n.start / unit))
            while bar < onset // per_bar:
                tokens.append("BAR")
                bar, pos = bar + 1, None
            if onset % per_bar != pos:
                pos = onset % per_bar
                tokens.append(f"POS_{pos}")
            b = velocity_bin(n.velocity)
            if b != vel:
                tokens.append(f"VEL_{b}")
                vel = b
            dur = min(self.MAX_DUR, max(1, round(n.duration / unit)))
            tokens += [f"PITCH_{n.pitch}", f"DUR_{dur}"]
        return tokens

    def _walk(self, tokens: Sequence[str]) -> Iterator[tuple[str, float, float]]:
        """``(token, onset time of the current position, seconds per grid step)`` for each token, at the piece's
        tempo and meter (its header's last, as :meth:`meter_of` reads them) from the start."""
        where = _BarPosition(self.PER_BEAT, self.meter_of(tokens))
        for tok in tokens:
            yield tok, *where.step(tok)

    def decode(self, tokens: Sequence[str]) -> list[NoteEvent]:
        notes, vel, pitch = [], bin_velocity(VELOCITY_BINS // 2), None
        for tok, now, unit in self._walk(tokens):
            kind, _, value = tok.partition("_")
            if kind == "VEL":
                vel = bin_velocity(int(value))
            elif kind == "PITCH":
                pitch = int(value)
            elif kind == "DUR" and pitch is not None:
                notes.append(NoteEvent(now, int(value) * unit, pitch, vel))
                pitch = None
            elif kind in ("BAR", "POS"):
                pitch = None
        return notes

    def seconds_of(self, token: str) -> float:
        return 0.0  # time here is a position in a bar: see clock()

    def clock(self) -> Callable[[str], float]:
        where = _BarPosition(self.PER_BEAT)
        return lambda token: where.step(token)[0]

    def meter_of(self, tokens: Sequence[str]) -> Meter:
        where = _BarPosition(self.PER_BEAT)
        for t in tokens:
            where.step(t)
        return Meter(where.bpm, where.beats)

    def closed_by(self, token: str) -> list[str]:
        """The tempo and meter open a piece: after its first bar they are not written again."""
        return [t for t in self.vocabulary if t.startswith(("TEMPO_", "METER_"))] if token == "BAR" else []


class _BarPosition:
    """Where a ``beats`` token sequence has got to: tempo, meter, bar and position. Tempo and meter are the
    piece's header: tokens of theirs after the first bar are ignored."""

    def __init__(self, per_beat: int, meter: Meter | None = None) -> None:
        self.per_beat, self.bar, self.pos, self.fixed = per_beat, -1, 0, meter is not None
        self.bpm, self.beats = (meter.bpm, meter.beats_per_bar) if meter is not None else (120.0, 4)

    def step(self, token: str) -> tuple[float, float]:
        """Read ``token``; returns the onset time (s) of the current position and the seconds per grid step."""
        kind, _, value = token.partition("_")
        header = self.bar < 0 and not self.fixed
        if kind == "TEMPO" and header:
            self.bpm = float(value)
        elif kind == "METER" and header:
            self.beats = int(value)
        elif token == "BAR":
            self.bar, self.pos = self.bar + 1, 0
        elif kind == "POS":
            self.pos = int(value)
        unit = 60.0 / self.bpm / self.per_beat
        return (max(self.bar, 0) * self.beats * self.per_beat + self.pos) * unit, unit


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
    if d["kind"] == "beats":
        return BeatTokenizer(vocabulary=list(d["vocabulary"]))  # type: ignore[arg-type]
    raise ValueError(f"unknown token format {d['kind']!r}")
