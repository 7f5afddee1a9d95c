"""A plan for a symbolic piece, sampled before its notes: a chord for every bar and a phrase form (which phrases
restate an earlier one), and what the plan allows the note model to write next.

The plan is part of the generator: a small grammar, drawn with the request's seed, conditioned on the mood (the
mode of each phrase follows the valence asked for where it begins). The piece is planned in C, the tonic the
shipped models are trained in; phrases are :data:`PHRASE_BARS` bars long and end on the tonic or on the dominant.

Under the plan (:class:`PlanFollower`):

* a note that starts on a beat is a tone of its bar's chord; one that starts between beats may be any note the
  model writes (a passing or neighbour note, chromatic or not), but ends by the next beat unless it belongs to
  the chord;
* no note outlasts its bar unless it belongs to the next bar's chord too, and none outlasts the next bar;
* a phrase's last bar (its cadence) has chord tones only;
* the melody moves by step, or leaps by at most an octave up, and no note lies more than two octaves below it;
* a loop's first bar is the tonic and its last bar the dominant seventh that leads back to it;
* a restated phrase copies the bars of the phrase it restates, all but its last, which is written afresh over
  the same chord (A A' B A'); the copy is made only where the mood asked for has not moved since the original
  was written.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import torch

from moodtune.midi.tokens import BeatTokenizer

PHRASE_BARS = 4
#: Chance that a phrase after the first restates an earlier one, unless a request says otherwise.
DEFAULT_REPEAT = 0.2
#: The melody (the top line) moves by at most this many semitones, except at onsets drawn to leap.
STEP = 2
#: Chance that an onset may leave the melody's step.
LEAP_CHANCE = 0.6
#: The melody leaps up by at most this many semitones (an octave).
MAX_LEAP = 12
#: No note lies more than this many semitones (two octaves) below the melody: the texture keeps together.
TEXTURE_SPAN = 24
#: Chance that an onset on the beat (outside a cadence bar) may take any note: a suspension or appoggiatura.
FREE_BEAT_CHANCE = 0.15
#: Notes an onset may write below the melody before the melody's own note must come.
ACCOMPANIMENT_NOTES = 2
#: A phrase restates one of the last this many phrases (12 bars: within the 16 bars a listener, and the bar
#: recurrence measure, compare a bar with).
RESTATE_WITHIN = 3
#: A phrase is copied only while the asked mood is within this distance of the one its original was written in.
COPY_MOOD_DISTANCE = 0.3

#: Pitch classes of the chords the progressions use, in C.
CHORDS: dict[str, tuple[int, ...]] = {
    "I": (0, 4, 7),
    "ii": (2, 5, 9),
    "IV": (5, 9, 0),
    "V": (7, 11, 2),
    "V7": (7, 11, 2, 5),
    "vi": (9, 0, 4),
    "i": (0, 3, 7),
    "iio": (2, 5, 8),
    "iv": (5, 8, 0),
    "VI": (8, 0, 3),
    "VII": (10, 2, 5),
    "III": (3, 7, 10),
}
ALL_CLASSES = tuple(range(12))

#: Four-bar progressions per mode; each ends on the tonic, or on the dominant that the next phrase resolves.
PROGRESSIONS: dict[str, tuple[tuple[str, ...], ...]] = {
    "major": (
        ("I", "IV", "V", "I"),
        ("I", "vi", "IV", "V"),
        ("I", "ii", "V7", "I"),
        ("I", "IV", "I", "V"),
        ("vi", "IV", "V7", "I"),
        ("I", "V", "IV", "I"),
    ),
    "minor": (
        ("i", "iv", "V", "i"),
        ("i", "VI", "iv", "V"),
        ("i", "iio", "V7", "i"),
        ("i", "VII", "VI", "V"),
        ("i", "iv", "i", "V"),
        ("VI", "iv", "V7", "i"),
    ),
}


#: The tonic chords, in major and minor.
TONICS = frozenset({"I", "i"})
#: The chord of a loop's last bar: the dominant seventh, which leads back to the tonic its first bar opens on.
LOOP_CHORD = "V7"

MAJOR_CHORDS = frozenset({"I", "ii", "IV", "vi"})
MINOR_CHORDS = frozenset({"i", "iio", "iv", "VI", "VII", "III"})
#: A chord in the parallel mode (the dominant is the same in both; a major key borrows no subtonic chord).
PARALLEL: dict[str, str] = {
    "I": "i",
    "ii": "iio",
    "IV": "iv",
    "V": "V",
    "V7": "V7",
    "vi": "VI",
    "i": "I",
    "iio": "ii",
    "iv": "IV",
    "VI": "vi",
    "VII": "V",
    "III": "I",
}


def in_mode(name: str, mode: str) -> str:
    """Chord ``name`` as it reads in ``mode``: a chord of the other mode becomes its parallel one."""
    other = name in MAJOR_CHORDS if mode == "minor" else name in MINOR_CHORDS
    return PARALLEL[name] if other else name


def mode_of(valence: float) -> str:
    """The mode a valence calls for: major from 0 up, minor below."""
    return "major" if valence >= 0 else "minor"


@dataclass
class Phrase:
    """One phrase of the plan: its mode, its chords (one per bar) and the phrase it restates (None: new)."""

    mode: str
    chords: tuple[str, ...]
    restates: int | None = None


@dataclass
class Plan:
    """Chords and form, drawn phrase by phrase as the piece reaches them (its length is not known in advance)."""

    seed: int
    repeat: float = DEFAULT_REPEAT
    loop: bool = False
    phrases: list[Phrase] = field(default_factory=list)
    #: A loop's last bar, once the piece's length in bars is known: its chord is :data:`LOOP_CHORD`.
    last_bar: int | None = None

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def phrase(self, index: int, valence: float) -> Phrase:
        """Phrase ``index``, drawn when first asked for (in order) with the mode the ``valence`` there calls for."""
        while len(self.phrases) <= index:
            mode = mode_of(valence)
            first = len(self.phrases) - RESTATE_WITHIN  # a recent phrase: a long piece restates its own section
            originals = [i for i, p in enumerate(self.phrases) if p.restates is None and p.mode == mode and i >= first]
            if originals and self.rng.random() < self.repeat:
                source = originals[0] if self.rng.random() < 0.6 else self.rng.choice(originals)
                self.phrases.append(Phrase(mode, self.phrases[source].chords, source))
            else:
                choices = PROGRESSIONS[mode]
                if self.loop and not self.phrases:  # a loop opens on the tonic its last bar leads back to
                    choices = tuple(p for p in choices if p[0] in TONICS)
                self.phrases.append(Phrase(mode, self.rng.choice(choices)))
        return self.phrases[index]

    def source_bar(self, bar: int) -> int | None:
        """The earlier bar that bar ``bar`` copies, or None when it is written afresh (its phrase must be drawn)."""
        index, k = divmod(bar, PHRASE_BARS)
        restates = self.phrases[index].restates
        if restates is None or k == PHRASE_BARS - 1 or bar == self.last_bar:
            return None
        return restates * PHRASE_BARS + k


class PlanFollower:
    """Reads the tokens as they are written and says which tokens the plan forbids next.

    Each token comes with the valence asked for where it stands (:meth:`see`), which chooses each phrase's mode and
    each bar's. Bars are counted from the first bar line written under the plan.
    """

    def __init__(self, tokenizer: BeatTokenizer, plan: Plan) -> None:
        self.tok, self.plan = tokenizer, plan
        self.bar, self.pos, self.beats = -1, 0, 4
        self.pitch: int | None = None
        self.bar_modes: list[str] = []  # the mode each bar's mood calls for
        self.rng = random.Random(plan.seed + 1)
        self.top: int | None = None  # the melody: the top line's pitch and the grid step its note ends on
        self.top_end = 0
        self.before: int | None = None  # the top line's pitch before the current onset, and whether it still sounds
        self.held = False
        self.onset_top: int | None = None  # the highest pitch written at the current onset, and how many
        self.onset_notes = 0
        self.leap = False  # this onset may leave the melody's step
        self.phrase_start = False  # no note written yet in this phrase
        self.free = False  # this onset, on the beat, may take a tone outside the chord
        self.move_ids = [i for t, i in tokenizer.index.items() if t.startswith(("POS_", "BAR"))]
        self.pitch_ids = {p: tokenizer.index[f"PITCH_{p}"] for p in range(tokenizer.MIN_PITCH, tokenizer.MAX_PITCH + 1)}
        self.dur_ids = {d: tokenizer.index[f"DUR_{d}"] for d in range(1, tokenizer.MAX_DUR + 1)}
        self._cache: dict[tuple[object, ...], torch.Tensor] = {}

    def see(self, token: str, valence: float) -> None:
        """Follow one written token; ``valence`` is the mood asked for where it stands."""
        kind, _, value = token.partition("_")
        if kind == "METER" and self.bar < 0:
            self.beats = int(value)
        elif token == "BAR":
            self.bar, self.pos, self.pitch = self.bar + 1, 0, None
            self.phrase_start = self.bar % PHRASE_BARS == 0  # a phrase's first note may begin in another register
            self.plan.phrase(self.bar // PHRASE_BARS, valence)
            self.bar_modes.append(mode_of(valence))
            self._onset()
        elif kind == "POS":
            self.pos, self.pitch = int(value), None
            self._onset()
        elif kind == "PITCH":  # counted at once, as the sampler counts an onset's pitches
            self.pitch = int(value)
            self.onset_top = self.pitch if self.onset_top is None else max(self.onset_top, self.pitch)
            self.onset_notes += 1
        elif kind == "DUR" and self.pitch is not None:
            now, pitch = self._now(), self.pitch
            self.phrase_start = False
            if self.top is None or self.top_end <= now or pitch > self.top:
                if pitch >= self.onset_top:
                    self.top, self.top_end = pitch, now + int(value)
            self.pitch = None

    def drop_bar(self) -> None:
        """Forget the last bar line seen: it was written at the very end and opens no bar."""
        self.bar -= 1

    def _now(self) -> int:
        """Grid steps from the first planned bar line to the current position."""
        return max(self.bar, 0) * self.beats * self.tok.PER_BEAT + self.pos

    def _onset(self) -> None:
        """A new position: what the melody was before it, and whether this onset may leap."""
        self.before, self.held = self.top, self.top is not None and self.top_end > self._now()
        self.onset_top, self.onset_notes = None, 0
        self.leap = self.phrase_start or self.rng.random() < LEAP_CHANCE
        self.free = self.rng.random() < FREE_BEAT_CHANCE and not self._opening()

    def _opening(self) -> bool:
        """Whether the piece is a loop whose first note is not written yet: it sounds on the first downbeat, a tone
        of the tonic the last bar leads back to."""
        return self.plan.loop and self.bar == 0 and self.top is None

    def chord(self, bar: int) -> tuple[int, ...] | None:
        """Pitch classes of bar ``bar``'s chord (None where its phrase is not drawn yet): the phrase's chord, in
        the parallel mode where the mood asked for at the bar's line calls for the other mode (a bar not reached
        yet is taken in the mode of the last one reached)."""
        name = self.chord_name(bar)
        return None if name is None else CHORDS[name]

    def chord_name(self, bar: int) -> str | None:
        """Roman numeral of bar ``bar``'s chord (see :meth:`chord`)."""
        index = bar // PHRASE_BARS
        if index >= len(self.plan.phrases):
            return None
        if bar == self.plan.last_bar and bar > 0:
            return LOOP_CHORD
        phrase = self.plan.phrases[index]
        name = phrase.chords[bar % PHRASE_BARS]
        mode = self.bar_modes[min(bar, len(self.bar_modes) - 1)] if self.bar_modes else phrase.mode
        return name if mode == phrase.mode else PARALLEL[name]

    def key(self) -> tuple[int, str]:
        """The key the piece was planned in: C, in the mode most of its bars took (major on a tie)."""
        minor = sum(mode == "minor" for mode in self.bar_modes)
        return 0, "minor" if minor > len(self.bar_modes) / 2 else "major"

    def chords(self) -> list[str]:
        """Roman numerals of the bars written so far."""
        return [name for bar in range(self.bar + 1) if (name := self.chord_name(bar)) is not None]

    def form(self) -> str:
        """The phrases drawn so far as letters, a restated phrase primed: ``"A A' B"``."""
        letters: dict[int, str] = {}
        out = []
        for i, phrase in enumerate(self.plan.phrases[: self.bar // PHRASE_BARS + 1]):
            if phrase.restates is None:
                letters[i] = chr(ord("A") + len(letters)) if len(letters) < 26 else "Z"
                out.append(letters[i])
            else:
                out.append(letters[phrase.restates] + "'")
        return " ".join(out)

    def _melody_window(self, classes: tuple[int, ...]) -> tuple[int, int, bool]:
        """``(lowest, highest, stay)``: the pitches the next note may take for the melody to move by step (at most
        :data:`STEP` above the top line before this onset; and, where that melody note has ended and this onset
        has nothing near it yet, at least :data:`STEP` below it once :data:`ACCOMPANIMENT_NOTES` lower notes are
        written, with ``stay`` keeping the piece at this onset until it has). An onset drawn to leap
        (:data:`LEAP_CHANCE`) is free, within :data:`MAX_LEAP` above the melody and :data:`TEXTURE_SPAN` below it,
        as every onset is."""
        lowest, highest = self.tok.MIN_PITCH, self.tok.MAX_PITCH
        if self.before is not None:  # at most an octave above the melody, two octaves below it
            lowest, highest = max(lowest, self.before - TEXTURE_SPAN), min(highest, self.before + MAX_LEAP)
        if self.before is None or self.leap:
            return lowest, highest, False
        reach = STEP
        while not any(
            lowest <= p <= highest and p % 12 in classes for p in range(self.before - reach, self.before + reach + 1)
        ):
            reach += 1  # no tone of the chord within a step (or the range): the nearest ones
            if reach > 12:
                return lowest, highest, False
        high = self.before + reach
        if self.held or (self.onset_top is not None and self.onset_top >= self.before - reach):
            return lowest, high, False
        if self.onset_notes < ACCOMPANIMENT_NOTES:  # notes below the melody first, as the tokens order them
            return lowest, high, True
        return self.before - reach, high, True

    def banned(self) -> torch.Tensor | None:
        """Token ids the plan forbids next (None: nothing, e.g. before the first bar line)."""
        if self.bar < 0:
            return None
        chord = self.chord(self.bar)
        assert chord is not None
        per_beat = self.tok.PER_BEAT
        # a pitch: chord tones on the beat and in the cadence bar, the melody within its step
        cadence = self.bar % PHRASE_BARS == PHRASE_BARS - 1 or self.bar == self.plan.last_bar
        strict = cadence or (self.pos % per_beat == 0 and not self.free)
        classes = chord if strict else ALL_CLASSES
        low, high, stay = self._melody_window(classes)
        limit = 0
        if self.pitch is not None:  # a duration: a tone outside the chord ends by the next beat, one outside the
            # next chord by the bar line, any other by the next bar line
            next_chord = self.chord(self.bar + 1)
            if self.pitch % 12 not in chord:
                limit = (self.pos // per_beat + 1) * per_beat - self.pos
            elif next_chord is not None and self.pitch % 12 in next_chord:
                limit = 2 * self.beats * per_beat - self.pos  # held into the next bar, not beyond it
            else:
                limit = self.beats * per_beat - self.pos
            limit, stay = max(1, limit), False
        opening = self._opening() and self.pitch is None
        key = (classes, low, high, stay, limit, opening)
        if key not in self._cache:
            banned = [i for p, i in self.pitch_ids.items() if p % 12 not in classes or not low <= p <= high]
            banned += self.move_ids if stay else []
            banned += [i for i in self.move_ids if i != self.tok.index["POS_0"]] if opening else []
            banned += [i for d, i in self.dur_ids.items() if d > limit] if limit else []
            self._cache[key] = torch.tensor(banned, dtype=torch.long)
        return self._cache[key]
