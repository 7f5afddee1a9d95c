"""Any folder of MIDI files (e.g. a Chopin collection), rendered with FluidSynth and kept as MIDI.

Mood labels, optional: a labels CSV (columns ``file``, ``valence``, ``arousal``; ``file`` is the
path relative to ROOT or the bare file name), else an EMOPIA-style quadrant prefix in the file
name (``Q1_`` happy, ``Q2_`` angry, ``Q3_`` sad, ``Q4_`` calm -> that mood's named point).
"""

from __future__ import annotations

import math
import re
from pathlib import Path

from moodtune.data.adapters.base import (
    Adapter,
    Context,
    Discovery,
    Recording,
    TrackJob,
    files_with_suffix,
    limited,
    read_csv_columns,
    style_from_folder,
)
from moodtune.data.adapters.rendering import render_and_store
from moodtune.errors import DatasetError
from moodtune.midi.render import FluidSynthRenderer, load_midi
from moodtune.mood import QUADRANT_NAMES, Mood

MIDI_EXTENSIONS = (".mid", ".midi")
LABEL_COLUMNS = ("file", "valence", "arousal")
_EMOPIA = re.compile(r"^Q([1-4])_")
#: Longest stretch of a MIDI file that is rendered, in seconds.
MAX_RENDER_SECONDS = 600.0


def read_labels(path: Path) -> dict[str, tuple[float, float]]:
    """file -> (valence, arousal) from a labels CSV; DatasetError names the file and the problem."""
    df = read_csv_columns(path, LABEL_COLUMNS, "labels")
    labels = {}
    for i, (f, v, a) in enumerate(zip(df["file"], df["valence"], df["arousal"], strict=True)):
        try:
            v, a = float(v), float(a)
        except (TypeError, ValueError) as exc:
            raise DatasetError(f"{path}: row {i + 2}: valence/arousal must be numbers") from exc
        if not (-1 <= v <= 1 and -1 <= a <= 1) or math.isnan(v) or math.isnan(a):
            raise DatasetError(f"{path}: row {i + 2}: valence and arousal must lie in [-1, 1], got {v}, {a}")
        labels[str(f).strip()] = (v, a)
    return labels


class MidiFolderAdapter(Adapter):
    """Recursive folder of .mid/.midi files; style = first sub-folder (or the folder's own name)."""

    name = "midi"

    def __init__(self, root: Path, labels: Path | None = None) -> None:
        if not root.is_dir():
            raise DatasetError(f"{root}: not a folder")
        self.root = root
        self.labels = read_labels(labels) if labels else {}

    def _label(self, f: Path) -> tuple[float | None, float | None]:
        rel = f.relative_to(self.root).as_posix()
        for key in (rel, f.name):
            if key in self.labels:
                return self.labels[key]
        match = _EMOPIA.match(f.name)
        if match:
            mood = Mood.named(QUADRANT_NAMES[int(match.group(1))])
            return mood.valence, mood.arousal
        return None, None

    def discover(self, limit: int | None) -> Discovery:
        files = files_with_suffix(self.root, MIDI_EXTENSIONS)
        if not files:
            raise DatasetError(f"{self.root}: no MIDI files (.mid, .midi) found")
        jobs = []
        for f in files:
            v, a = self._label(f)
            rel = f.relative_to(self.root).with_suffix("").as_posix()
            jobs.append(
                TrackJob(f"midi/{rel}", str(f), style_from_folder(f, self.root, self.root.name), self.name, v, a)
            )
        return Discovery(limited(jobs, limit))

    def materialize(self, job: TrackJob, ctx: Context) -> list[Recording]:
        pm = load_midi(job.path)
        with FluidSynthRenderer(ctx.soundfont, ctx.sr) as renderer:
            audio, wav, _ = render_and_store(renderer, pm, ctx, job.track_id, job.path, max_seconds=MAX_RENDER_SECONDS)
        return [Recording(audio, ctx.sr, wav, ctx.sr, job.valence, job.arousal, midi_path=job.path)]
