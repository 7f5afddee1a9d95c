"""The sets an evaluation compares: generated samples, real held-out clips and trivial baselines."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pretty_midi
import torch

from moodtune.audio.features import LogMel, MelConfig
from moodtune.audio.io import fit_length, load_audio
from moodtune.audio.vocoder import GriffinLimVocoder
from moodtune.engines.base import Engine, EngineOptions, Request
from moodtune.errors import MoodtuneError
from moodtune.evaluation.symbolic_metrics import GridPiece, piece_from_midi, read_piece
from moodtune.mood import QUADRANT_MOODS, Mood, quadrant_name
from moodtune.progress import progress_bar


@dataclass
class SampleSet:
    """Clips ``[T]`` at ``sr`` with the mood each was asked for (or labelled with) ``[N, 2]``, a group name
    per clip (the asked / labelled quadrant mood) and, for symbolic sets, the notes."""

    name: str
    audio: list[np.ndarray]
    sr: int
    asked: np.ndarray
    groups: list[str]
    pieces: list[GridPiece] = field(default_factory=list)
    failed: int = 0

    def __len__(self) -> int:
        return len(self.audio)


def generated_set(
    engine: Engine,
    n: int,
    seconds: float,
    seed: int = 0,
    progress: bool = True,
    name: str = "generated",
    options: EngineOptions | None = None,
) -> SampleSet:
    """``n`` samples of ``seconds`` each, asked for the four quadrant moods in turn (seeds ``seed + i``), with the
    engine ``options``.

    A sample the engine cannot produce (e.g. a symbolic model that emits no notes) is counted in
    ``failed`` and left out.
    """
    audio, asked, groups, pieces, failed, sr = [], [], [], [], 0, 22050
    with progress_bar(f"generating {n} samples", total=n, enabled=progress) as advance:
        for i in range(n):
            mood_name = QUADRANT_MOODS[i % len(QUADRANT_MOODS)]
            mood = Mood.named(mood_name)
            try:
                result = engine.generate(Request(mood=mood, seconds=seconds, seed=seed + i, options=options))
            except MoodtuneError:
                failed += 1
                advance()
                continue
            sr = result.sr
            audio.append(fit_length(result.audio, round(seconds * sr)))
            asked.append([mood.valence, mood.arousal])
            groups.append(mood_name)
            if result.midi is not None:
                pieces.append(piece_from_midi(result.midi, 0.0, seconds))
            advance()
    return SampleSet(name, audio, sr, np.asarray(asked, np.float32).reshape(-1, 2), groups, pieces, failed)


def pick_rows(manifest: pd.DataFrame, split: str, n: int) -> pd.DataFrame:
    """Up to ``n`` labelled clips of ``split``, evenly spaced over the split (deterministic)."""
    rows = manifest[(manifest["split"] == split) & manifest["valence"].notna() & manifest["arousal"].notna()]
    if len(rows) == 0:
        raise MoodtuneError(f"no labelled clips in the {split!r} split")
    idx = np.unique(np.linspace(0, len(rows) - 1, min(n, len(rows))).round().astype(int))
    return rows.iloc[idx].reset_index(drop=True)


def real_pieces(manifest: pd.DataFrame, split: str, n: int, seconds: float) -> list[GridPiece]:
    """The first ``seconds`` of up to ``n`` MIDI renderings of ``split`` (each once, evenly spaced over the
    split; renderings whose file is gone are left out)."""
    if "midi_path" not in manifest:
        return []
    rows = manifest[manifest["split"] == split]
    paths = [p for p in rows["midi_path"].drop_duplicates() if isinstance(p, str) and p and os.path.isfile(p)]
    if not paths:
        return []
    idx = np.unique(np.linspace(0, len(paths) - 1, min(n, len(paths))).round().astype(int))
    return [read_piece(paths[i], 0.0, seconds) for i in idx]


def real_set(rows: pd.DataFrame, seconds: float, sr: int, name: str = "real held-out") -> SampleSet:
    """The clips of manifest ``rows`` (first ``seconds`` of each), their labels, and their MIDI notes where
    the manifest keeps MIDI (``midi_path``)."""
    audio, pieces = [], []
    for r in rows.to_dict("records"):
        end = min(r["end_s"], r["start_s"] + seconds)
        a, _ = load_audio(r["path"], sr=sr, start_s=r["start_s"], end_s=end, check_silence=False)
        audio.append(fit_length(a, round(seconds * sr)))
        midi = r.get("midi_path")
        if isinstance(midi, str) and midi and os.path.isfile(midi):
            pieces.append(read_piece(midi, r["start_s"], end))
    asked = rows[["valence", "arousal"]].to_numpy(np.float32)
    groups = [quadrant_name(float(v), float(a)) for v, a in asked]
    return SampleSet(name, audio, sr, asked, groups, pieces if len(pieces) == len(rows) else [])


def shaped_noise_set(
    like: SampleSet, reference: SampleSet, seed: int = 0, name: str = "trivial: shaped noise"
) -> SampleSet:
    """Noise shaped like music: the reference clips' mean log-mel spectrum with random slow level changes
    and per-bin jitter, vocoded; one clip per clip of ``like`` with the same asked moods (it ignores them)."""
    config = MelConfig(sr=reference.sr)
    logmel = LogMel(config)
    mean_spectrum = np.mean([logmel(a).numpy().mean(1) for a in reference.audio], axis=0)  # [n_mels]
    vocoder = GriffinLimVocoder(config)
    rng = np.random.default_rng(seed)
    n = len(like.audio[0]) if like.audio else round(8 * reference.sr)
    frames = config.frames(n)
    audio = []
    for _ in like.audio:
        level = np.cumsum(rng.normal(0, 0.01, frames))
        mel = mean_spectrum[:, None] + level[None, :] + rng.normal(0, 0.04, (len(mean_spectrum), frames))
        audio.append(fit_length(vocoder(torch.from_numpy(np.clip(mel, 0, 1)).float(), length=n).numpy(), n))
    return SampleSet(name, audio, reference.sr, like.asked, like.groups)


def random_notes_set(
    like: SampleSet,
    reference: list[GridPiece],
    seconds: float,
    render: Callable[[pretty_midi.PrettyMIDI], np.ndarray],
    sr: int,
    seed: int = 0,
    name: str = "trivial: random notes",
) -> SampleSet:
    """Random notes with the reference pieces' pitch range and note density (uniform pitches, random
    onsets, durations and velocities), rendered; same asked moods as ``like`` (which it ignores)."""
    rng = np.random.default_rng(seed)
    pitches = [n.pitch for p in reference for n in p.notes] or [60]
    density = float(np.mean([len(p.notes) / p.seconds for p in reference if p.seconds > 0] or [4.0]))
    audio, pieces = [], []
    for _ in like.audio:
        pm = pretty_midi.PrettyMIDI()
        inst = pretty_midi.Instrument(0)
        for _ in range(max(1, rng.poisson(density * seconds))):
            start = float(rng.uniform(0, seconds - 0.1))
            dur = float(min(rng.exponential(0.4) + 0.05, seconds - start))
            pitch = int(rng.integers(min(pitches), max(pitches) + 1))
            inst.notes.append(pretty_midi.Note(int(rng.integers(30, 120)), pitch, start, start + dur))
        inst.notes.sort(key=lambda x: x.start)
        pm.instruments.append(inst)
        pieces.append(piece_from_midi(pm, 0.0, seconds))
        audio.append(fit_length(render(pm), round(seconds * sr)))
    return SampleSet(name, audio, sr, like.asked, like.groups, pieces)
