"""Adapters over folders of audio files: ``audio`` (any folder), ``gtzan`` (genres) and the shared loader."""

from __future__ import annotations

import re
from pathlib import Path

from moodtune.audio.io import AUDIO_EXTENSIONS, audio_info, load_audio
from moodtune.data.adapters.base import (
    Adapter,
    Context,
    Discovery,
    Recording,
    TrackJob,
    files_with_suffix,
    limited,
    style_from_folder,
)
from moodtune.errors import DatasetError


class AudioFileAdapter(Adapter):
    """Base for adapters whose tracks are existing audio files (loaded, never rewritten)."""

    def materialize(self, job: TrackJob, ctx: Context) -> list[Recording]:
        native_sr, _ = audio_info(job.path)
        audio, sr = load_audio(job.path, sr=ctx.sr)
        return [Recording(audio, sr, job.path, native_sr, job.valence, job.arousal, job.va_curve)]


class AudioFolderAdapter(AudioFileAdapter):
    """Any folder of audio files (wav, mp3, ogg, flac), recursive; unlabeled; style = first sub-folder."""

    name = "audio"

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise DatasetError(f"{root}: not a folder")
        self.root = root

    def discover(self, limit: int | None) -> Discovery:
        files = files_with_suffix(self.root, AUDIO_EXTENSIONS)
        if not files:
            raise DatasetError(f"{self.root}: no audio files ({', '.join(AUDIO_EXTENSIONS)}) found")
        jobs = [
            TrackJob(
                track_id=f"audio/{f.relative_to(self.root).with_suffix('').as_posix()}",
                path=str(f),
                style=style_from_folder(f, self.root, "audio"),
                source=self.name,
            )
            for f in files
        ]
        return Discovery(limited(jobs, limit))


_GTZAN_NAME = re.compile(r"^([a-z]+)\.(\d{5})\.(wav|au)$")


class GtzanAdapter(AudioFileAdapter):
    """GTZAN: ``genres_original/<genre>/<genre>.000NN.wav`` found anywhere under ROOT; style = genre."""

    name = "gtzan"

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise DatasetError(f"{root}: not a folder")
        if root.name == "genres_original":
            self.genres_dir = root
        else:
            found = sorted(root.rglob("genres_original"), key=lambda p: len(p.parts))
            found = [p for p in found if p.is_dir()]
            if not found:
                raise DatasetError(
                    f"{root}: no 'genres_original' folder found (expected genres_original/<genre>/<genre>.000NN.wav)"
                )
            self.genres_dir = found[0]

    def discover(self, limit: int | None) -> Discovery:
        jobs, skipped = [], []
        for f in files_with_suffix(self.genres_dir, (".wav", ".au")):
            match = _GTZAN_NAME.match(f.name)
            if not match or f.parent.parent != self.genres_dir:
                skipped.append({"path": str(f), "reason": "not named <genre>/<genre>.000NN.wav"})
                continue
            jobs.append(TrackJob(track_id=f"gtzan/{f.stem}", path=str(f), style=f.parent.name, source=self.name))
        if not jobs:
            raise DatasetError(f"{self.genres_dir}: no <genre>/<genre>.000NN.wav files found")
        # Round-robin over genres so a --limit still covers several genres.
        by_genre: dict[str, list[TrackJob]] = {}
        for job in jobs:
            by_genre.setdefault(job.style, []).append(job)
        ordered = [j for group in _round_robin(list(by_genre.values())) for j in group]
        return Discovery(limited(ordered, limit), skipped)


def _round_robin(groups: list[list[TrackJob]]) -> list[list[TrackJob]]:
    out: list[list[TrackJob]] = []
    for i in range(max((len(g) for g in groups), default=0)):
        out.append([g[i] for g in groups if i < len(g)])
    return out
