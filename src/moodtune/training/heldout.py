"""Held-out reconstruction: one evaluator for every engine that :class:`Reconstructs`.

Clips are read at a reference rate (22 050 Hz), resampled to the engine's rate, reconstructed and
resampled back, so engines at lower rates pay for the bandwidth they cannot represent. Scores are
the log-spectral distance of log-mels and the multi-resolution STFT distance
(:class:`~moodtune.audio.distances.ReconstructionScorer`). Where an engine rests on a fixed
component (a vocoder, a codec: :class:`HasComponent`), that component's own round trip is scored too.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from moodtune.audio.distances import ReconstructionScorer
from moodtune.audio.features import LogMel, MelConfig
from moodtune.audio.io import AudioReadError, load_audio, resample
from moodtune.engines.base import HasComponent, Reconstructs
from moodtune.viz.plots import plot_reconstruction

REFERENCE_SR = 22050


@dataclass
class HeldOutClip:
    """A real clip ``audio [T]`` at the reference rate with its labels (None when unknown)."""

    name: str
    audio: np.ndarray
    valence: float | None
    arousal: float | None
    style: str | None


def heldout_rows(manifest: pd.DataFrame) -> pd.DataFrame:
    """The test split's rows, else the validation split's (empty when neither has any)."""
    for split in ("test", "val"):
        rows = manifest[manifest["split"] == split]
        if not rows.empty:
            return rows
    return manifest.iloc[:0]


def read_clips(rows: pd.DataFrame, styles: list[str], max_clips: int, seconds: float) -> list[HeldOutClip]:
    """Up to ``max_clips`` clips of at most ``seconds`` from manifest ``rows`` (unreadable files skipped)."""
    clips = []
    for r in rows.head(max_clips).to_dict("records"):
        end = min(float(r["end_s"]), float(r["start_s"]) + seconds)
        try:
            audio, _ = load_audio(r["path"], sr=REFERENCE_SR, start_s=float(r["start_s"]), end_s=end)
        except AudioReadError:
            continue
        v, a = r.get("valence"), r.get("arousal")
        known = v is not None and a is not None and not (np.isnan(v) or np.isnan(a))
        style = str(r["style"]) if str(r["style"]) in styles[1:] else None
        clips.append(
            HeldOutClip(str(r["clip_id"]), audio, float(v) if known else None, float(a) if known else None, style)
        )
    return clips


def reconstruction_scores(
    engine: Reconstructs, clips: list[HeldOutClip]
) -> tuple[dict[str, dict[str, float]], np.ndarray | None]:
    """``variant -> mean scores`` over ``clips``: ``"model"`` (encode -> decode) and, where the engine has one,
    its component alone (keyed by its name, e.g. ``"vocoder"``); also the model's reconstruction of the first
    clip at the reference rate (None without clips)."""
    variants: dict[str, Any] = {
        "model": lambda c, x: engine.reconstruct_audio(x, valence=c.valence, arousal=c.arousal, style=c.style)
    }
    if isinstance(engine, HasComponent):
        variants[engine.component] = lambda c, x: engine.component_roundtrip(x)
    score = ReconstructionScorer(REFERENCE_SR)
    per: dict[str, list[dict[str, float]]] = {k: [] for k in variants}
    first = None
    for clip in clips:
        x = resample(clip.audio, REFERENCE_SR, engine.sr)
        for key, fn in variants.items():
            y = resample(np.asarray(fn(clip, x), np.float32), engine.sr, REFERENCE_SR)
            y = np.pad(y[: len(clip.audio)], (0, max(0, len(clip.audio) - len(y))))
            first = y if first is None else first
            per[key].append(score(clip.audio, y))
    return {k: {m: float(np.mean([s[m] for s in v])) for m in v[0]} for k, v in per.items() if v}, first


def heldout_reconstruction(
    engine: Reconstructs,
    manifest: pd.DataFrame,
    styles: list[str],
    plot: Path | None = None,
    max_clips: int = 16,
    seconds: float = 6.0,
) -> dict[str, Any]:
    """Training's held-out metrics: ``heldout_{lsd_db, mrstft_sc, mrstft_logmag}`` of the model and
    ``heldout_component_{lsd_db, mrstft_logmag}``; with ``plot``, the first clip's original vs reconstruction."""
    clips = read_clips(heldout_rows(manifest), styles, max_clips, seconds)
    if not clips:
        return {}
    scores, first = reconstruction_scores(engine, clips)
    out: dict[str, Any] = {"heldout_clips": len(clips)}
    out.update({f"heldout_{k}": round(v, 4) for k, v in scores.pop("model").items()})
    for comp in scores.values():
        out.update({f"heldout_component_{k}": round(comp[k], 4) for k in ("lsd_db", "mrstft_logmag")})
    if plot is not None and first is not None:
        logmel, c = LogMel(MelConfig(sr=REFERENCE_SR)), clips[0]
        plot_reconstruction(logmel(c.audio).numpy(), logmel(first).numpy(), plot, f"({c.name}, held out)", REFERENCE_SR)
    return out
