"""Symbolic engine: sample note tokens from the mood-conditioned network (LSTM or Transformer), then MIDI,
audio and score.

Sampling reads a window of the last ``seq_len`` tokens to predict the next one: the LSTM carries its state,
the Transformer keeps the window's keys and values (:func:`decoder_for`). Temperature, top-k and nucleus
(top-p) filtering shape the choice, and the token format's grammar masks what may not come next. The mood
condition at every step is the request's mood at the time the music has reached, so a trajectory steers the
piece as it unfolds: with ``beats`` tokens each bar also chooses its own tempo.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
from torch import nn

from moodtune.audio.io import fit_length, wrap_tail
from moodtune.data.adapters.builtin import style_programs
from moodtune.engines.base import Engine, EngineOptions, Request, Result
from moodtune.engines.checkpoint import load_checkpoint
from moodtune.engines.plan import (
    COPY_MOOD_DISTANCE,
    DEFAULT_REPEAT,
    PHRASE_BARS,
    Plan,
    PlanFollower,
    in_mode,
    mode_of,
)
from moodtune.errors import MidiReadError, MoodtuneError
from moodtune.labels import style_index
from moodtune.midi.analysis import parse_key, to_c_tonic, to_key
from moodtune.midi.instruments import ensemble, instrument_label, parse_instruments
from moodtune.midi.render import FluidSynthRenderer, load_midi, resolve_soundfont
from moodtune.midi.tokens import (
    BOS,
    EOS,
    PAD,
    BeatTokenizer,
    Tokenizer,
    midi_meter,
    midi_notes,
    tokenizer_from_dict,
    tracks_to_midi,
)
from moodtune.midi.voices import split_voices
from moodtune.models.symbolic import decoder_for, symbolic_model


def filter_logits(logits: torch.Tensor, top_k: int | None = None, top_p: float | None = None) -> torch.Tensor:
    """Keep the ``top_k`` largest logits and the smallest set whose probability reaches ``top_p``; others -> -inf."""
    out = logits.clone()
    if top_k is not None and top_k < out.numel():
        kth = torch.topk(out, top_k).values[-1]
        out[out < kth] = -float("inf")
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(out, descending=True)
        cumulative = torch.softmax(sorted_logits, dim=-1).cumsum(dim=-1)
        drop = cumulative > top_p
        drop[1:] = drop[:-1].clone()  # keep the token that crosses the threshold
        drop[0] = False
        out[order[drop]] = -float("inf")
    return out


@dataclass(frozen=True)
class SymbolicOptions(EngineOptions):
    """Sampling options of the symbolic engine: a note count instead of seconds, top-k / nucleus filtering,
    a primer MIDI file to continue, the mood guidance (None: the model's default), and the controls: tempo,
    key, meter, bars, the plan and how often it restates a phrase, the tracks' instruments, a loop, and the
    soundfont that renders the audio (a .sf2 file, ``"bundled"`` or ``"fluidr3"``; None: the engine's, else the
    bundled one the mood model learnt from)."""

    engine: str = "symbolic"
    notes: int | None = None
    top_k: int | None = None
    top_p: float | None = None
    primer: str | None = None
    guidance: float | None = None
    tempo: float | None = None
    key: str | None = None
    meter: str | None = None
    bars: int | None = None
    plan: bool = True
    repeat: float | None = None
    instruments: str | None = None
    loop: bool = False
    soundfont: str | None = None

    def __post_init__(self) -> None:
        if self.instruments is not None:
            parse_instruments(self.instruments)
        if self.soundfont is not None:
            resolve_soundfont(self.soundfont)
        if self.loop and self.notes is not None:
            raise MoodtuneError("a loop is whole bars: give bars or seconds with it, not notes")
        if self.loop and self.primer is not None:
            raise MoodtuneError("a continuation cannot loop: it opens with the primer's bars, not its own")
        if self.repeat is not None and not 0.0 <= self.repeat <= 1.0:
            raise MoodtuneError(f"repeat must lie in [0, 1], got {self.repeat}")
        if self.notes is not None and not 1 <= self.notes <= 100_000:
            raise MoodtuneError(f"notes must lie in [1, 100000], got {self.notes}")
        if self.tempo is not None and not MIN_TEMPO <= self.tempo <= MAX_TEMPO:
            raise MoodtuneError(f"tempo must lie in [{MIN_TEMPO}, {MAX_TEMPO}] BPM, got {self.tempo:g}")
        if self.key is not None:
            parse_key(self.key)
        if self.meter is not None:
            beats_per_bar(self.meter)
        if self.bars is not None and not 1 <= self.bars <= MAX_BARS:
            raise MoodtuneError(f"bars must lie in [1, {MAX_BARS}], got {self.bars}")
        if self.bars is not None and self.notes is not None:
            raise MoodtuneError("give bars or notes, not both: each sets where the piece ends")
        if self.meter is not None and self.primer is not None:
            raise MoodtuneError("a meter cannot be asked of a continuation: the primer's meter holds")
        if self.top_k is not None and self.top_k < 1:
            raise MoodtuneError(f"top-k must be at least 1, got {self.top_k}")
        if self.top_p is not None and not 0.0 < self.top_p <= 1.0:
            raise MoodtuneError(f"top-p must lie in (0, 1], got {self.top_p}")
        if self.guidance is not None and not 0.0 <= self.guidance <= 10.0:
            raise MoodtuneError(f"guidance must lie in [0, 10], got {self.guidance}")


#: Tempi (quarter notes per minute) a request may ask for.
MIN_TEMPO, MAX_TEMPO = 30.0, 300.0
#: Most bars a request may ask for.
MAX_BARS = 1000
#: Most notes that start together (beat tokens): a four-part chord doubled.
MAX_ONSET_NOTES = 8
#: Most quarter notes per bar the beat tokens can write.
MAX_METER_BEATS = 7
#: The longest primer a piece may continue: notes, and seconds to its last note's end.
MAX_PRIMER_NOTES = 5000
MAX_PRIMER_SECONDS = 600.0


def beats_per_bar(meter: str) -> int:
    """Quarter notes per bar of a meter written ``"3/4"``; MoodtuneError for what the tokens cannot write."""
    top, _, bottom = meter.strip().partition("/")
    if bottom.strip() == "4" and top.strip().isdigit() and 1 <= int(top) <= MAX_METER_BEATS:
        return int(top)
    raise MoodtuneError(
        f"unknown meter {meter!r}: give N/4 with N from 1 to {MAX_METER_BEATS} (the tokens count quarter notes)"
    )


#: Sample rate of the rendered audio.
RENDER_SR = 22050
#: Seconds over which the rendering fades out where the asked length cuts a note's release.
RELEASE_FADE_S = 0.1
#: Mood guidance of a model trained with mood dropout, unless a request says otherwise.
DEFAULT_GUIDANCE = 4.0
#: Nucleus a token is drawn from unless a request says otherwise: the unlikely tail it cuts off is where
#: notes out of key and stray durations come from.
DEFAULT_TOP_P = 0.95


def _position(token: str) -> int:
    """The grid position a ``POS_k`` token moves to; -1 for anything else (a bar line starts before position 0)."""
    return int(token[4:]) if token.startswith("POS_") else -1


class BarGrammar:
    """What the beat tokens' grammar cannot say token by token, for a piece as it is written: positions only move
    forward in a bar; one position takes a pitch once and at most :data:`MAX_ONSET_NOTES` pitches (a model asked
    for a meter it rarely saw can otherwise pile up hundreds of notes at one position); a duration comes right after
    its pitch and only there, and a velocity only before a pitch (a model that finds no likely way on otherwise
    writes velocities and durations that make no note, without end). Other token formats have no positions:
    nothing is banned."""

    def __init__(self, tokenizer: Tokenizer) -> None:
        index = tokenizer.index
        self.active = tokenizer.kind == "beats"

        def ids(*prefixes: str, keep: bool = True) -> torch.Tensor:
            return torch.tensor([i for t, i in index.items() if t.startswith(prefixes) == keep], dtype=torch.long)

        self.pitches, self.velocities, self.durations = ids("PITCH_"), ids("VEL_"), ids("DUR_")
        self.not_durations = ids("DUR_", keep=False)
        self.positions = [index[t] for t in sorted(index, key=_position) if t.startswith("POS_")]
        self.index = index
        self.position = -1  # the current position in the bar (-1: at its line)
        self.onset: list[int] = []  # the pitches written at it
        self.last = ""  # the last token written

    def see(self, token: str) -> None:
        """Follow one written token."""
        self.last = token
        if token.startswith(("POS_", "BAR")):
            self.position, self.onset = _position(token), []
        elif self.active and token.startswith("PITCH_"):
            self.onset.append(self.index[token])

    def ban(self, logits: torch.Tensor) -> None:
        """Set the logits ``[vocab]`` of what may not come next to -inf."""
        full = len(self.onset) >= MAX_ONSET_NOTES
        if self.onset:
            logits[self.pitches if full else self.onset] = -float("inf")
        if self.position >= 0:
            logits[self.positions[: self.position + 1]] = -float("inf")
        if not self.active:
            return
        if self.last.startswith("PITCH_"):
            logits[self.not_durations] = -float("inf")
            return
        logits[self.durations] = -float("inf")
        if full or self.last.startswith("VEL_"):
            logits[self.velocities] = -float("inf")


class SymbolicEngine(Engine):
    """Generate MIDI (and its rendering) with a trained symbolic LSTM."""

    name = "symbolic"
    writes_midi = True

    def __init__(
        self,
        model: nn.Module,
        tokenizer: Tokenizer,
        styles: list[str],
        soundfont: str | None = None,
        device: str = "cpu",
        transpose: bool = False,
        mood_dropout: float = 0.0,
    ) -> None:
        self.model = model.to(device).eval()
        self.guidable = mood_dropout > 0  # trained to predict without a mood too: guidance can steer it
        self.transpose = transpose  # trained on pieces moved to a C tonic: primers are moved there too
        self.tokenizer = tokenizer
        self.styles = styles
        self.soundfont = soundfont
        self.device = device

    @property
    def sr(self) -> int:
        """Sample rate of the rendered audio."""
        return RENDER_SR

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], device: str = "cpu") -> SymbolicEngine:
        state, config = load_checkpoint(path, engine=cls.name)
        model = symbolic_model(config["model"])
        model.load_state_dict(state)
        train = config.get("train", {})
        return cls(
            model,
            tokenizer_from_dict(config["tokenizer"]),
            config["styles"],
            device=device,
            transpose=bool(train.get("transpose", False)),
            mood_dropout=float(train.get("mood_dropout", 0.0)),
        )

    def guidance(self, opts: SymbolicOptions) -> float:
        """The mood guidance to sample with: the options', else :data:`DEFAULT_GUIDANCE` for a model trained with
        mood dropout and 1 (none) for others; MoodtuneError for guidance asked of a model that cannot take it."""
        if opts.guidance is None:
            return DEFAULT_GUIDANCE if self.guidable else 1.0
        if opts.guidance != 1.0 and not self.guidable:
            raise MoodtuneError(
                "--guidance needs a model trained with --mood-dropout (this one never learnt to predict without a "
                "mood, so there is nothing to steer away from)"
            )
        return opts.guidance

    @staticmethod
    def top_p(opts: SymbolicOptions) -> float:
        """The nucleus to sample from: the options', else :data:`DEFAULT_TOP_P`."""
        return DEFAULT_TOP_P if opts.top_p is None else opts.top_p

    def style_index(self, style: str | None) -> int:
        """Vocabulary index of ``style`` (None -> unknown)."""
        return style_index(self.styles, style)

    def primer_tokens(self, path: str) -> list[str]:
        """Tokens of a primer MIDI; MidiReadError when it is malformed, empty, out of the vocabulary, or longer than
        :data:`MAX_PRIMER_NOTES` notes or :data:`MAX_PRIMER_SECONDS` (the continuation repeats the primer: its
        length is part of the piece's)."""
        pm = load_midi(path)
        notes = midi_notes(pm)
        end = max(n.start + n.duration for n in notes) if notes else 0.0
        if len(notes) > MAX_PRIMER_NOTES or end > MAX_PRIMER_SECONDS:
            raise MidiReadError(
                f"{path}: {len(notes)} notes over {end:.0f} s; a primer is at most {MAX_PRIMER_NOTES} notes and "
                f"{MAX_PRIMER_SECONDS:g} s: cut it to the passage to continue"
            )
        tokens = self.tokenizer.encode(to_c_tonic(notes) if self.transpose else notes, midi_meter(pm))
        if not tokens:
            raise MidiReadError(f"{path}: the primer has no notes this model can read")
        try:
            self.tokenizer.ids(tokens)
        except MidiReadError as exc:
            raise MidiReadError(f"{path}: {exc}") from exc
        return tokens

    @torch.no_grad()
    def generate_tokens(self, request: Request, primer: list[str] | None = None) -> list[str]:
        """Sample until the options' ``notes`` notes, or ``request.seconds`` of music, have been written (see
        :meth:`write`)."""
        return self.write(request, primer)[0]

    @torch.no_grad()
    def write(self, request: Request, primer: list[str] | None = None) -> tuple[list[str], PlanFollower | None]:
        """The tokens, sampled until the options' ``notes`` notes, ``bars`` bars or ``request.seconds`` of music
        have been written, and the plan they followed (None: none).

        The result starts with the primer's tokens (``primer``, else read from the options' ``primer``).
        """
        request = self.with_style(request)
        opts = self.sampling_options(request)
        tok = self.tokenizer
        self.check_controls(opts)
        if primer is None:
            primer = self.primer_tokens(opts.primer) if opts.primer else []
        if opts.meter is not None:
            primer = [f"METER_{beats_per_bar(opts.meter)}", *primer]  # the piece opens with the asked meter
        primer = self.at_tempo(primer, opts)  # a primer's bars are played at the asked tempo too
        tokens = [BOS, *primer]
        ids = tok.ids(tokens)
        clock = tok.clock()  # the time each token has reached: the mood asked for there conditions the next
        elapsed = [0.0, *(clock(t) for t in primer)]
        scale = self.time_scale(opts)  # seconds of music per second of the model's clock
        moods = [[float(v), float(a), 1.0] for v, a in request.mood_at(np.asarray(elapsed) * scale)]
        decoder = decoder_for(self.model, self.guidance(opts))
        top_p = self.top_p(opts)
        style = torch.tensor([self.style_index(request.style)], device=self.device)
        banned = {tok.index[t] for t in (PAD, BOS) if t in tok.index}
        for t in primer:
            banned |= {tok.index[c] for c in tok.closed_by(t)}
        eos = tok.index.get(EOS)
        if eos is not None:
            banned.add(eos)  # length is the request's, not the model's
        if opts.tempo is not None:  # every new bar takes the tempo bin nearest the asked tempo
            asked = self.tempo_bin(opts.tempo)
            banned |= {tok.index[t] for t in tok.vocabulary if t.startswith("TEMPO_") and t != asked}
        gen = torch.Generator().manual_seed(request.seed)
        target_notes = opts.notes
        bars_left = opts.bars
        budget = 40 * (target_notes or int(request.seconds * 20)) + len(tokens)
        if bars_left is not None:
            budget = 50 * MAX_METER_BEATS * BeatTokenizer.PER_BEAT * bars_left + len(tokens)
        n_primer_notes = len(tok.decode(primer))
        masks: dict[str, torch.Tensor] = {}  # per previous token, the ids that may not come next
        follower = self.plan_follower(opts, request, primer)
        if follower is not None and opts.loop and opts.bars is not None:
            follower.plan.last_bar = opts.bars - 1
        bar_starts: list[int] = []  # where each bar written under the plan starts in ``tokens``
        force_bar = False  # a copied bar ends at the next bar line

        grammar = BarGrammar(tok)
        # what writes a note or moves on (a duration only ever right after its pitch: the grammar bans it elsewhere)
        advancing = [i for t, i in tok.index.items() if t.startswith(("PITCH_", "DUR_", "POS_", "BAR"))]
        for t in primer:  # where the primer stopped, and its meter
            grammar.see(t)
            if follower is not None:
                follower.see(t, float(moods[-1][0]))

        def push(token: str) -> None:
            nonlocal banned
            tokens.append(token)
            ids.append(tok.index[token])
            closed = {tok.index[c] for c in tok.closed_by(token)} - banned
            if closed:
                banned |= closed
                masks.clear()
            elapsed.append(clock(token))
            v, a = request.mood_at(np.asarray(elapsed[-1:]) * scale)[0]
            moods.append([float(v), float(a), 1.0])
            grammar.see(token)
            if follower is not None:
                if token == "BAR":
                    bar_starts.append(len(tokens) - 1)
                follower.see(token, float(v))

        while len(tokens) < budget:
            if force_bar:
                token, force_bar = "BAR", False
            else:
                logits = decoder.next_logits(ids, moods, style)
                mask = masks.get(tokens[-1])
                if mask is None:
                    mask = masks[tokens[-1]] = torch.tensor(sorted(banned.union(tok.ids(tok.banned_after(tokens[-1])))))
                logits[mask] = -float("inf")
                grammar.ban(logits)
                planned = follower.banned() if follower is not None else None
                if planned is not None and len(planned):
                    kept = logits[planned].clone()
                    logits[planned] = -float("inf")
                    if torch.isinf(logits[advancing]).all():  # the plan leaves no way on (no pitch, duration,
                        logits[planned] = kept  # position or bar line): the grammar alone decides this step
                if request.temperature <= 0:
                    choice = int(torch.argmax(logits))
                else:
                    probs = torch.softmax(filter_logits(logits / request.temperature, opts.top_k, top_p), dim=-1)
                    choice = int(torch.multinomial(probs, 1, generator=gen))
                token = tok.vocabulary[choice]
            if token == "BAR" and bars_left is not None:
                if bars_left == 0:  # the asked bars are written: this bar line would open one more
                    break
                bars_left -= 1
            source = self.copied_bar(follower, bar_starts, elapsed, request, scale) if token == "BAR" else None
            if source is not None:  # the plan restates an earlier bar: its tokens again, then the next bar line
                first, last = bar_starts[source], (bar_starts[source + 1 :] or [len(tokens)])[0]
                for t in tokens[first:last]:
                    push(t)
                force_bar = True
            else:
                push(token)
            if opts.loop and bars_left is None and token.startswith("TEMPO_"):  # the first bar's tempo sets a
                bars_left = self.loop_bars(request, opts, token, tokens) - 1  # loop's length in whole phrases
                if follower is not None:
                    follower.plan.last_bar = bars_left
            if target_notes is not None:
                if len(tok.decode(tokens[1:])) - n_primer_notes >= target_notes:
                    break
            elif bars_left is None and (elapsed[-1] - elapsed[len(primer)]) * scale >= request.seconds:
                if tokens[-1] == "BAR" and follower is not None:  # a bar line at the end opens no bar
                    tokens.pop()
                    follower.drop_bar()
                break
        return tokens[1:], follower

    def plan_follower(self, opts: SymbolicOptions, request: Request, primer: list[str]) -> PlanFollower | None:
        """What keeps the piece to a plan of chords and phrases (:mod:`moodtune.engines.plan`), for a model that
        writes bars in C (beat tokens, pieces moved to a C tonic) and a piece that is not a continuation; None
        otherwise or when the options turn the plan off."""
        tok = self.tokenizer
        if not opts.plan or not self.transpose or not isinstance(tok, BeatTokenizer) or not tok.bar_tempo:
            return None
        if any(t.startswith("PITCH_") for t in primer):
            return None
        return PlanFollower(tok, Plan(request.seed, DEFAULT_REPEAT if opts.repeat is None else opts.repeat, opts.loop))

    @staticmethod
    def copied_bar(
        follower: PlanFollower | None, bar_starts: list[int], elapsed: list[float], request: Request, scale: float
    ) -> int | None:
        """The earlier bar the plan has the next bar restate, where the mood asked for now is still near the one
        that bar was written in; None to write the next bar afresh."""
        if follower is None:
            return None
        now = elapsed[-1] * scale
        follower.plan.phrase((follower.bar + 1) // PHRASE_BARS, float(request.mood_at(np.asarray([now]))[0][0]))
        source = follower.plan.source_bar(follower.bar + 1)
        if source is None or source >= len(bar_starts):
            return None
        then = request.mood_at(np.asarray([elapsed[bar_starts[source]] * scale, now]))
        same_mode = mode_of(float(then[0][0])) == mode_of(float(then[1][0]))
        return source if same_mode and float(np.linalg.norm(then[0] - then[1])) <= COPY_MOOD_DISTANCE else None

    def loop_bars(self, request: Request, opts: SymbolicOptions, tempo: str, tokens: list[str]) -> int:
        """Bars of a loop asked for in seconds: the whole phrases nearest ``request.seconds`` at the first bar's
        tempo (``tempo``, its token; the asked tempo where there is one), at least one phrase."""
        bpm = opts.tempo if opts.tempo is not None else float(tempo.partition("_")[2])
        beats = self.tokenizer.meter_of(tokens).beats_per_bar
        return PHRASE_BARS * max(1, round(request.seconds * bpm / 60.0 / beats / PHRASE_BARS))

    @staticmethod
    def programs(opts: SymbolicOptions, style: str | None) -> dict[str, int]:
        """Each track's General MIDI program: the asked instruments, else the ensemble that plays ``style`` in the
        built-in corpus, else the piano."""
        if opts.instruments is not None:
            return parse_instruments(opts.instruments)
        return ensemble(style_programs(style) or (0,))

    def at_tempo(self, tokens: list[str], opts: SymbolicOptions) -> list[str]:
        """``tokens`` with every tempo the asked tempo's bin (unchanged when no tempo is asked)."""
        if opts.tempo is None:
            return tokens
        tempo_bin = self.tempo_bin(opts.tempo)
        return [tempo_bin if t.startswith("TEMPO_") else t for t in tokens]

    def tempo_bin(self, bpm: float) -> str:
        """The model's ``TEMPO_t`` token nearest to ``bpm``."""
        assert isinstance(self.tokenizer, BeatTokenizer)
        return self.tokenizer.tempo_token(bpm)

    def time_scale(self, opts: SymbolicOptions) -> float:
        """Seconds of music per second of the model's clock: with an asked tempo the notes written on the beats
        of its nearest tempo bin are moved onto the asked tempo's; 1 otherwise."""
        return 1.0 if opts.tempo is None else float(self.tempo_bin(opts.tempo).partition("_")[2]) / opts.tempo

    def check_controls(self, opts: SymbolicOptions) -> None:
        """Refuse a tempo, meter or bar count asked of a model whose tokens have no bars with a tempo each."""
        asked = [name for name in ("tempo", "meter", "bars") if getattr(opts, name) is not None]
        asked += ["loop"] if opts.loop else []
        if asked and not (isinstance(self.tokenizer, BeatTokenizer) and self.tokenizer.bar_tempo):
            raise MoodtuneError(
                f"{', '.join(asked)}: this model's tokens ({self.tokenizer.kind}) have no bars with their own tempo; "
                "train with --tokens beats for these controls"
            )

    def sampling_options(self, request: Request) -> SymbolicOptions:
        """The request's :class:`SymbolicOptions` (defaults when it has none)."""
        opts = self.options(request, SymbolicOptions)
        assert isinstance(opts, SymbolicOptions)
        return opts

    def generate(self, request: Request) -> Result:
        request = self.with_style(request)
        opts = self.sampling_options(request)
        primer = self.primer_tokens(opts.primer) if opts.primer else []
        tokens, follower = self.write(request, primer)  # every bar at the asked tempo's bin, a primer's too
        primer = self.at_tempo(primer, opts)
        scale = self.time_scale(opts)
        notes = self.tokenizer.decode(tokens)
        meter = self.tokenizer.meter_of(tokens)
        if opts.tempo is not None:  # the notes sit on the beats of the tempo bin: moved onto the asked tempo's
            notes = [replace(n, start=n.start * scale, duration=n.duration * scale) for n in notes]
            meter = replace(meter, bpm=opts.tempo, changes=())
        if opts.bars is not None:
            primer_bars = sum(t == "BAR" for t in primer)
            horizon = meter.seconds_at((primer_bars + opts.bars) * meter.beats_per_bar)
        elif opts.loop:  # whole phrases, as many as were written
            horizon = meter.seconds_at(tokens.count("BAR") * meter.beats_per_bar)
        else:
            horizon = request.seconds + self.tokenizer.duration(primer) * scale
        if opts.notes is None:
            notes = [replace(n, duration=min(n.duration, horizon - n.start)) for n in notes if n.start < horizon]
        if opts.key is not None:
            known = follower.key() if follower is not None else None  # a planned piece's key is known
            # (and its minor is harmonic: the dominant keeps its leading tone)
            notes = to_key(notes, *parse_key(opts.key), source=known, harmonic=known is not None)
        if not notes:
            raise MoodtuneError("the model produced no notes; try a higher temperature or another seed")
        bars = meter.beats_per_bar if self.tokenizer.kind == "beats" else None
        programs = self.programs(opts, request.style)
        pm = tracks_to_midi(split_voices(notes), programs, meter.bpm, bars, meter.changes)
        soundfont = resolve_soundfont(opts.soundfont or self.soundfont)
        with FluidSynthRenderer(soundfont, self.sr) as renderer:
            audio = renderer.render(pm)
        if opts.loop:  # the last notes' release sounds over the loop's start, as it would when played again
            audio = wrap_tail(audio, round(horizon * self.sr))
        elif opts.notes is None:  # the asked length, like the audio engines: the last notes' release fades out
            audio = fit_length(audio, round(horizon * self.sr), fade=round(RELEASE_FADE_S * self.sr))
        meta: dict[str, Any] = {
            "engine": self.name,
            "tokens": len(tokens),
            "notes": len(notes),
            "seed": request.seed,
            "style": request.style,
            "guidance": self.guidance(opts),
            "top_p": self.top_p(opts),
            **{k: getattr(opts, k) for k in ("tempo", "key", "meter", "bars") if getattr(opts, k) is not None},
            "instruments": {inst.name: instrument_label(inst.program) for inst in pm.instruments},
            "soundfont": soundfont.name,
        }
        if opts.loop:
            meta["loop"], meta["bars"] = True, tokens.count("BAR")
        if follower is not None:  # the plan the notes were written under, in the piece's key
            chords = follower.chords()
            if opts.key is not None:
                chords = [in_mode(c, parse_key(opts.key)[1]) for c in chords]
            meta["form"], meta["chords"] = follower.form(), " ".join(chords)
        return Result(audio, self.sr, None, meta, midi=pm)
