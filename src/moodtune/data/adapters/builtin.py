"""The built-in corpus: real scores shipped with music21, rendered under controlled emotional cues.

Every piece yields four renderings, one per quadrant of the circumplex (happy, angry, sad,
calm). Each rendering sets the cues of :mod:`moodtune.data.cues` (mode via parallel-mode
transformation, tempo, loudness, articulation, register) and is labelled by that module's
formula. Renderings are kept as MIDI (for the symbolic engine) and WAV (for audio engines).
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pretty_midi

from moodtune.data.adapters.base import Adapter, Context, Discovery, Recording, Score, TrackJob
from moodtune.data.adapters.rendering import render_and_store, store_midi
from moodtune.data.cues import QUADRANT_SIGNS, Cues, sample_cues
from moodtune.errors import DatasetError, MidiReadError
from moodtune.midi.analysis import estimate_key, to_parallel_mode
from moodtune.midi.render import FluidSynthRenderer


@dataclass(frozen=True)
class Collection:
    """A style of the built-in corpus: which corpus files, and which GM programs play its parts."""

    style: str
    pattern: str
    programs: tuple[int, ...]


#: Styles of the built-in corpus (style = source collection).
COLLECTIONS: tuple[Collection, ...] = (
    Collection("chorale", r"^bach/bwv[\d.]+\.mxl$", (0,)),  # Bach chorales, piano
    Collection("folk", r"^ryansMammoth/.+\.abc$", (40,)),  # fiddle tunes, violin
    Collection("renaissance", r"^palestrina/.+\.krn$", (52,)),  # Palestrina mass movements, choir
    Collection("quartet", r"^(haydn/opus\w+|mozart/k(80|155|156|458))/movement\d\.mxl$", (40, 40, 41, 42)),
    Collection("madrigal", r"^monteverdi/madrigal[\d.]+\.mxl$", (73, 71, 68, 70, 70)),  # winds
)


def style_programs(style: str | None) -> tuple[int, ...] | None:
    """The GM programs (top part first) that play ``style``'s pieces in the built-in corpus; None for a style it
    does not have."""
    return next((c.programs for c in COLLECTIONS if c.style == style), None)


DEFAULT_PIECES = 128
#: ``--midi-only`` keeps each rendering up to this length (most pieces are shorter).
MIDI_ONLY_MAX_SECONDS = 120.0
CLIPS_PER_VARIANT = 2
QUADRANTS = tuple(QUADRANT_SIGNS)


def corpus_files() -> dict[str, list[tuple[str, Path]]]:
    """style -> sorted ``(corpus-relative path, absolute path)`` of the corpus files of that style."""
    from music21 import corpus

    out: dict[str, list[tuple[str, Path]]] = {c.style: [] for c in COLLECTIONS}
    for p in corpus.getCorePaths():
        rel = str(p).replace("\\", "/").split("/corpus/")[-1]
        for c in COLLECTIONS:
            if re.match(c.pattern, rel):
                out[c.style].append((rel, Path(p)))
                break
    return {k: sorted(v) for k, v in out.items()}


@dataclass(frozen=True)
class ScoreNote:
    """A note of a score: part index, onset and length in quarter notes, MIDI pitch."""

    part: int
    onset: float
    length: float
    pitch: int


def read_score_notes(path: Path) -> tuple[list[ScoreNote], int | None]:
    """Notes of the score at ``path`` sorted by onset, and its first key signature (sharps; None if absent).

    Ties are merged; grace notes and chord symbols are dropped.
    """
    from music21 import converter, harmony, key, stream

    try:
        score = converter.parse(str(path))
    except Exception as exc:  # music21 raises many types on malformed scores
        raise MidiReadError(f"{path}: cannot parse score ({type(exc).__name__}: {exc})") from exc
    if isinstance(score, stream.Opus):
        score = score.scores[0]
    parts = list(score.parts) or [score]
    notes = []
    for i, part in enumerate(parts):
        for n in part.stripTies().flatten().notes:
            if isinstance(n, harmony.Harmony) or n.duration.isGrace:
                continue
            onset, length = float(n.offset), float(n.duration.quarterLength)
            if length <= 0:
                continue
            notes.extend(ScoreNote(i, onset, length, p.midi) for p in n.pitches)
    if not notes:
        raise MidiReadError(f"{path}: score has no notes")
    signatures = score.flatten().getElementsByClass(key.KeySignature)
    sharps = int(signatures[0].sharps) if len(signatures) else None
    return sorted(notes, key=lambda n: (n.onset, n.part, n.pitch)), sharps


def score_key(notes: list[ScoreNote], sharps: int | None = None) -> tuple[int, str]:
    """Key of a whole score from its duration-weighted pitches, key signature and final bass note."""
    last_onset = max(n.onset for n in notes)
    final_bass = min(n.pitch for n in notes if n.onset == last_onset)
    return estimate_key([n.pitch for n in notes], [n.length for n in notes], final_bass=final_bass, sharps=sharps)


def perform(
    notes: list[ScoreNote], cues: Cues, key: tuple[int, str], programs: tuple[int, ...], seed: int
) -> pretty_midi.PrettyMIDI:
    """A performance of ``notes`` under ``cues`` as MIDI (tempo, velocity, articulation, register, mode)."""
    tonic, mode = key
    target_mode = "major" if cues.mode > 0 else "minor"
    rng = random.Random(seed)
    spq = 60.0 / cues.bpm  # seconds per quarter note
    pm = pretty_midi.PrettyMIDI(initial_tempo=cues.bpm)
    n_parts = max(n.part for n in notes) + 1
    instruments = [pretty_midi.Instrument(program=programs[min(i, len(programs) - 1)]) for i in range(n_parts)]
    for n in notes:
        pitch = n.pitch if target_mode == mode else to_parallel_mode(n.pitch, tonic, mode)
        pitch += cues.transpose
        if not 21 <= pitch <= 108:
            pitch -= cues.transpose
        start = n.onset * spq
        end = start + max(n.length * spq * cues.duration_fraction, 0.03)
        velocity = min(127, max(1, cues.velocity + rng.randint(-5, 5)))
        instruments[n.part].notes.append(pretty_midi.Note(velocity, pitch, start, end))
    pm.instruments = [inst for inst in instruments if inst.notes]
    return pm


class BuiltinAdapter(Adapter):
    """Scores from the music21 corpus in five styles, four cue-controlled renderings each.

    With ``midi_only`` the renderings are kept as whole pieces in MIDI, without audio: cheap, so every
    piece of the collections is taken unless a limit is given.
    """

    name = "builtin"

    def __init__(self, seed: int = 0, clips_per_variant: int = CLIPS_PER_VARIANT, midi_only: bool = False) -> None:
        self.seed = seed
        self.clips_per_variant = clips_per_variant
        self.midi_only = midi_only

    def params(self) -> dict[str, Any]:
        # "tonic": rows record the score's tonic (runs stored before they did are not reused)
        if self.midi_only:
            return {"midi_only": True, "max_seconds": MIDI_ONLY_MAX_SECONDS, "tonic": True}
        return {"clips_per_variant": self.clips_per_variant, "tonic": True}

    def discover(self, limit: int | None) -> Discovery:
        files = corpus_files()
        if not any(files.values()):
            raise DatasetError("the music21 corpus has none of the built-in collections; is music21 fully installed?")
        rng = random.Random(self.seed)
        queues = []
        for c in COLLECTIONS:
            items = list(files[c.style])
            rng.shuffle(items)
            queues.append((c, items))
        wanted = limit if limit is not None else None if self.midi_only else DEFAULT_PIECES
        picked: list[tuple[Collection, str, Path]] = []
        depth = 0
        while (wanted is None or len(picked) < wanted) and any(depth < len(q) for _, q in queues):
            for c, items in queues:
                if depth < len(items) and (wanted is None or len(picked) < wanted):
                    picked.append((c, *items[depth]))
            depth += 1
        jobs = []
        for c, rel, path in picked:
            track_id = "builtin/" + rel.rsplit(".", 1)[0]
            piece_rng = random.Random(f"{self.seed}:{track_id}")
            variants = {q: sample_cues(q, piece_rng).to_dict() for q in QUADRANTS}
            jobs.append(
                TrackJob(
                    track_id,
                    str(path),
                    c.style,
                    self.name,
                    options={"variants": variants, "programs": list(c.programs)},
                )
            )
        return Discovery(jobs)

    def _performances(
        self, job: TrackJob, ctx: Context, seconds: float
    ) -> Iterator[tuple[str, Cues, pretty_midi.PrettyMIDI, int]]:
        """``(quadrant, cues, MIDI, tonic)`` of each rendering of the job's piece, cut to its first ``seconds``: every
        rendering keeps the score's tonic (pitch class), in the major or minor mode its cues ask for."""
        variants = {q: Cues(**c) for q, c in job.options["variants"].items()}
        notes, sharps = read_score_notes(Path(job.path))
        key = score_key(notes, sharps)
        for i, (quadrant, cues) in enumerate(variants.items()):
            spq = 60.0 / cues.bpm
            part_notes = [n for n in notes if n.onset * spq < seconds]
            pm = perform(part_notes, cues, key, tuple(job.options["programs"]), seed=ctx.seed * 1000 + i)
            yield quadrant, cues, pm, key[0]

    def _name(self, job: TrackJob, quadrant: str) -> str:
        return f"{job.track_id.removeprefix('builtin/')}/{quadrant}"

    def materialize(self, job: TrackJob, ctx: Context) -> list[Recording]:
        seconds = self.clips_per_variant * ctx.clip_seconds + 0.25
        recordings = []
        with FluidSynthRenderer(ctx.soundfont, ctx.sr) as renderer:
            for quadrant, cues, pm, tonic in self._performances(job, ctx, seconds):
                audio, wav, mid = render_and_store(
                    renderer, pm, ctx, self._name(job, quadrant), f"{job.path} ({quadrant})", seconds, keep_midi=True
                )
                recordings.append(
                    Recording(audio, ctx.sr, wav, ctx.sr, cues.valence, cues.arousal, None, mid, quadrant, tonic)
                )
        return recordings

    def scores(self, job: TrackJob, ctx: Context) -> list[Score]:
        out = []
        for quadrant, cues, pm, tonic in self._performances(job, ctx, MIDI_ONLY_MAX_SECONDS):
            for inst in pm.instruments:  # the last notes may ring past the cut
                for n in inst.notes:
                    n.end = min(n.end, MIDI_ONLY_MAX_SECONDS)
            path = store_midi(pm, ctx, self._name(job, quadrant))
            out.append(Score(path, round(pm.get_end_time(), 6), cues.valence, cues.arousal, quadrant, tonic))
        return out
