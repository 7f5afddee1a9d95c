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

from moodtune.audio.io import fit_length
from moodtune.engines.base import Engine, EngineOptions, Request, Result
from moodtune.engines.checkpoint import load_checkpoint
from moodtune.errors import MidiReadError, MoodtuneError
from moodtune.labels import style_index
from moodtune.midi.analysis import to_c_tonic
from moodtune.midi.render import FluidSynthRenderer, load_midi
from moodtune.midi.tokens import BOS, EOS, PAD, Tokenizer, midi_meter, midi_notes, notes_to_midi, tokenizer_from_dict
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
    a primer MIDI file to continue, and the mood guidance (None: the model's default)."""

    engine: str = "symbolic"
    notes: int | None = None
    top_k: int | None = None
    top_p: float | None = None
    primer: str | None = None
    guidance: float | None = None

    def __post_init__(self) -> None:
        if self.notes is not None and not 1 <= self.notes <= 100_000:
            raise MoodtuneError(f"notes must lie in [1, 100000], got {self.notes}")
        if self.top_k is not None and self.top_k < 1:
            raise MoodtuneError(f"top-k must be at least 1, got {self.top_k}")
        if self.top_p is not None and not 0.0 < self.top_p <= 1.0:
            raise MoodtuneError(f"top-p must lie in (0, 1], got {self.top_p}")
        if self.guidance is not None and not 0.0 <= self.guidance <= 10.0:
            raise MoodtuneError(f"guidance must lie in [0, 10], got {self.guidance}")


#: Sample rate of the rendered audio.
RENDER_SR = 22050
#: Seconds over which the rendering fades out where the asked length cuts a note's release.
RELEASE_FADE_S = 0.1
#: Mood guidance of a model trained with mood dropout, unless a request says otherwise.
DEFAULT_GUIDANCE = 4.0
#: Nucleus a token is drawn from unless a request says otherwise: the unlikely tail it cuts off is where
#: notes out of key and stray durations come from.
DEFAULT_TOP_P = 0.95


class SymbolicEngine(Engine):
    """Generate MIDI (and its rendering) with a trained symbolic LSTM."""

    name = "symbolic"

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
        """Tokens of a primer MIDI; MidiReadError when it is malformed, empty or out of the vocabulary."""
        pm = load_midi(path)
        notes = midi_notes(pm)
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
        """Sample until the options' ``notes`` notes, or ``request.seconds`` of music, have been written.

        The result starts with the primer's tokens (``primer``, else read from the options' ``primer``).
        """
        request = self.with_style(request)
        opts = self.sampling_options(request)
        tok = self.tokenizer
        if primer is None:
            primer = self.primer_tokens(opts.primer) if opts.primer else []
        tokens = [BOS, *primer]
        ids = tok.ids(tokens)
        clock = tok.clock()  # the time each token has reached: the mood asked for there conditions the next
        elapsed = [0.0, *(clock(t) for t in primer)]
        moods = [[float(v), float(a), 1.0] for v, a in request.mood_at(np.asarray(elapsed))]
        decoder = decoder_for(self.model, self.guidance(opts))
        top_p = self.top_p(opts)
        style = torch.tensor([self.style_index(request.style)], device=self.device)
        banned = {tok.index[t] for t in (PAD, BOS) if t in tok.index}
        for t in primer:
            banned |= {tok.index[c] for c in tok.closed_by(t)}
        eos = tok.index.get(EOS)
        if eos is not None:
            banned.add(eos)  # length is the request's, not the model's
        gen = torch.Generator().manual_seed(request.seed)
        target_notes = opts.notes
        budget = 40 * (target_notes or int(request.seconds * 20)) + len(tokens)
        n_primer_notes = len(tok.decode(primer))
        masks: dict[str, torch.Tensor] = {}  # per previous token, the ids that may not come next
        while len(tokens) < budget:
            logits = decoder.next_logits(ids, moods, style)
            mask = masks.get(tokens[-1])
            if mask is None:
                mask = masks[tokens[-1]] = torch.tensor(sorted(banned.union(tok.ids(tok.banned_after(tokens[-1])))))
            logits[mask] = -float("inf")
            if request.temperature <= 0:
                choice = int(torch.argmax(logits))
            else:
                probs = torch.softmax(filter_logits(logits / request.temperature, opts.top_k, top_p), dim=-1)
                choice = int(torch.multinomial(probs, 1, generator=gen))
            token = tok.vocabulary[choice]
            tokens.append(token)
            ids.append(choice)
            closed = {tok.index[c] for c in tok.closed_by(token)} - banned
            if closed:
                banned |= closed
                masks.clear()
            elapsed.append(clock(token))
            v, a = request.mood_at(np.asarray(elapsed[-1:]))[0]
            moods.append([float(v), float(a), 1.0])
            if target_notes is not None:
                if len(tok.decode(tokens[1:])) - n_primer_notes >= target_notes:
                    break
            elif elapsed[-1] >= request.seconds + (elapsed[len(primer)] if primer else 0.0):
                break
        return tokens[1:]

    def sampling_options(self, request: Request) -> SymbolicOptions:
        """The request's :class:`SymbolicOptions` (defaults when it has none)."""
        opts = self.options(request, SymbolicOptions)
        assert isinstance(opts, SymbolicOptions)
        return opts

    def generate(self, request: Request) -> Result:
        request = self.with_style(request)
        opts = self.sampling_options(request)
        primer = self.primer_tokens(opts.primer) if opts.primer else []
        tokens = self.generate_tokens(request, primer)
        notes = self.tokenizer.decode(tokens)
        if opts.notes is None:
            horizon = request.seconds + self.tokenizer.duration(primer)
            notes = [replace(n, duration=min(n.duration, horizon - n.start)) for n in notes if n.start < horizon]
        if not notes:
            raise MoodtuneError("the model produced no notes; try a higher temperature or another seed")
        meter = self.tokenizer.meter_of(tokens)
        bars = meter.beats_per_bar if self.tokenizer.kind == "beats" else None
        pm = notes_to_midi(notes, tempo=meter.bpm, beats_per_bar=bars, tempo_changes=meter.changes)
        with FluidSynthRenderer(self.soundfont, self.sr) as renderer:
            audio = renderer.render(pm)
        if opts.notes is None:  # the asked length, like the audio engines: the last notes' release fades out
            audio = fit_length(audio, round(horizon * self.sr), fade=round(RELEASE_FADE_S * self.sr))
        meta: dict[str, Any] = {
            "engine": self.name,
            "tokens": len(tokens),
            "notes": len(notes),
            "seed": request.seed,
            "style": request.style,
            "guidance": self.guidance(opts),
            "top_p": self.top_p(opts),
        }
        return Result(audio, self.sr, None, meta, midi=pm)
