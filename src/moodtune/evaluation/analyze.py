"""Music-emotion recognition for users: ``moodtune analyze FILE_OR_DIR...``."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from moodtune.audio.io import AUDIO_EXTENSIONS, AudioReadError, load_audio
from moodtune.data.adapters.base import files_with_suffix
from moodtune.errors import MoodtuneError
from moodtune.evaluation.mood_model import MoodModel
from moodtune.fsutil import clean_stale_temps, write_text_atomic
from moodtune.mood import Mood
from moodtune.viz.plots import plot_mood_curve

#: Audio shorter than this (seconds) is too short for a mood reading: it is skipped, not guessed at.
MIN_SECONDS = 1.0


@dataclass
class Analysis:
    """One file's predicted mood, and its per-second curve when asked for."""

    path: Path
    seconds: float
    valence: float
    arousal: float
    times: np.ndarray = field(default_factory=lambda: np.zeros(0))
    curve: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))

    @property
    def mood(self) -> str:
        """Nearest named mood."""
        return Mood(float(np.clip(self.valence, -1, 1)), float(np.clip(self.arousal, -1, 1))).nearest_name()


def expand_inputs(inputs: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """Files as given, and the audio files inside given folders (recursively, sorted)."""
    files: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            files += files_with_suffix(p, AUDIO_EXTENSIONS)
        elif p.exists():
            files.append(p)
        else:
            raise MoodtuneError(f"no such file or folder: {p}")
    return files


def analyze_files(
    model: MoodModel,
    files: list[Path],
    curve: bool = False,
    step_s: float = 1.0,
    skipped: Callable[[Path, str], None] | None = None,
) -> Iterator[Analysis]:
    """Analyse each readable file; unreadable ones and those shorter than :data:`MIN_SECONDS` go to
    ``skipped(path, reason)`` and are left out."""
    for path in files:
        try:
            audio, sr = load_audio(path, sr=model.sr)
            if len(audio) < MIN_SECONDS * sr:
                raise AudioReadError(
                    f"{path}: too short to analyse ({len(audio) / sr:.2f} s; at least {MIN_SECONDS:g} s)"
                )
        except AudioReadError as exc:
            if skipped is not None:
                skipped(path, str(exc))
            continue
        va = model.predict(audio, sr)
        result = Analysis(path, len(audio) / sr, float(va[0]), float(va[1]))
        if curve:
            result.times, result.curve = model.curve(audio, sr, step_s)
        yield result


def write_analysis(
    results: list[Analysis], table_csv: str | os.PathLike[str] | None, curve_dir: str | os.PathLike[str] | None
) -> list[str]:
    """Write the per-file table as CSV and each file's curve as CSV + PNG; returns lines saying what was written."""
    import pandas as pd

    lines = []
    if table_csv:
        df = pd.DataFrame(
            [
                {
                    "file": str(r.path),
                    "seconds": round(r.seconds, 2),
                    "valence": r.valence,
                    "arousal": r.arousal,
                    "mood": r.mood,
                }
                for r in results
            ]
        )
        write_text_atomic(table_csv, df.to_csv(index=False, float_format="%.4f"))
        lines.append(f"table: {table_csv}")
    if curve_dir:
        folder = Path(curve_dir)
        clean_stale_temps(folder)
        for r in results:
            if not len(r.times):
                continue
            stem = folder / r.path.stem
            df = pd.DataFrame({"time": r.times, "valence": r.curve[:, 0], "arousal": r.curve[:, 1]})
            write_text_atomic(stem.with_suffix(".csv"), df.to_csv(index=False, float_format="%.4f"))
            plot_mood_curve(r.times, r.curve, stem.with_suffix(".png"), f"mood of {r.path.name}")
            lines.append(f"curve: {stem.with_suffix('.csv')} {stem.with_suffix('.png')}")
    return lines
