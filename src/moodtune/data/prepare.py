"""``moodtune prepare``: a dataset -> clips -> manifest + summary + log-mel cache.

Each track is one job, run in a worker process. A finished job writes a small record
(``.jobs/<key>.json``, atomically), so a run that is killed resumes where it stopped and a
second run with the same inputs and parameters only reads the records back.
"""

from __future__ import annotations

import json
import logging
import math
import os
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from moodtune import __version__
from moodtune.audio.features import MelConfig
from moodtune.audio.io import SILENCE_PEAK
from moodtune.data.adapters.audio_files import AudioFolderAdapter, GtzanAdapter
from moodtune.data.adapters.base import Adapter, Context, Recording, Score, TrackJob
from moodtune.data.adapters.builtin import BuiltinAdapter
from moodtune.data.adapters.deam import DeamAdapter
from moodtune.data.adapters.midi_folder import MidiFolderAdapter
from moodtune.data.cache import FeatureCache, LogMelFeature, clip_fingerprint
from moodtune.data.manifest import build_summary, write_manifest, write_summary
from moodtune.data.splits import assign_splits
from moodtune.errors import DatasetError, MoodtuneError
from moodtune.fsutil import clean_stale_temps, file_lock, write_json_atomic
from moodtune.midi.render import DEFAULT_GAIN, resolve_soundfont
from moodtune.progress import progress_bar

log = logging.getLogger(__name__)

DATASETS = ("builtin", "deam", "gtzan", "midi", "audio")
JOBS_DIR = ".jobs"
PREPARE_LOCK = ".prepare.lock"
DEFAULT_CLIP_SECONDS = 8.0
#: A clip whose RMS lies below this (-60 dBFS) is dropped as silent.
SILENT_CLIP_RMS = 1e-3


def make_adapter(
    dataset: str,
    root: str | os.PathLike[str] | None,
    labels: str | None = None,
    seed: int = 0,
    midi_only: bool = False,
) -> Adapter:
    """The adapter for ``dataset``; DatasetError when ROOT is missing or not needed."""
    if dataset not in DATASETS:
        raise DatasetError(f"unknown dataset {dataset!r}; choose one of {', '.join(DATASETS)}")
    if midi_only and dataset != "builtin":
        raise DatasetError(f"--midi-only applies to the builtin dataset, not {dataset!r}")
    if dataset == "builtin":
        if root is not None:
            raise DatasetError("the builtin dataset takes no ROOT folder")
        return BuiltinAdapter(seed=seed, midi_only=midi_only)
    if root is None:
        raise DatasetError(f"dataset {dataset!r} needs a ROOT folder")
    root_path = Path(root)
    if not root_path.exists():
        raise DatasetError(f"{root_path}: no such folder")
    if labels is not None and dataset != "midi":
        raise DatasetError("--labels applies to the midi dataset only")
    if dataset == "deam":
        return DeamAdapter(root_path)
    if dataset == "gtzan":
        return GtzanAdapter(root_path)
    if dataset == "midi":
        return MidiFolderAdapter(root_path, Path(labels) if labels else None)
    return AudioFolderAdapter(root_path)


@dataclass
class PrepareResult:
    """Where the outputs went, and the summary that was written."""

    out_dir: Path
    manifest_path: Path
    summary: dict[str, Any]
    jobs_run: int
    jobs_reused: int
    seconds: float


def clip_bounds(n_samples: int, sr: int, clip_seconds: float) -> list[tuple[float, float]]:
    """Consecutive non-overlapping ``(start_s, end_s)`` clips of exactly ``clip_seconds``; a shorter tail is dropped."""
    n_clip = round(clip_seconds * sr)
    return [(i * n_clip / sr, (i + 1) * n_clip / sr) for i in range(n_samples // n_clip)]


def _clip_curve(curve: list[list[float | None]] | None, start: float, end: float) -> str:
    """JSON of the per-second ``[v, a]`` pairs covering ``[start, end)``, or "" when none is known."""
    if not curve:
        return ""
    pairs = [curve[s] if s < len(curve) else [None, None] for s in range(math.floor(start), math.ceil(end))]
    if all(v is None and a is None for v, a in pairs):
        return ""
    return json.dumps(pairs)


def _clips_of(
    rec: Recording, job: TrackJob, ctx: Context, cache: FeatureCache, feature: LogMelFeature
) -> tuple[list[dict[str, Any]], int]:
    rows, silent = [], 0
    for k, (start, end) in enumerate(clip_bounds(len(rec.audio), rec.sr, ctx.clip_seconds)):
        seg = rec.audio[round(start * rec.sr) : round(end * rec.sr)]
        if float(np.sqrt(np.mean(seg.astype(np.float64) ** 2))) < SILENT_CLIP_RMS:
            silent += 1
            continue
        clip_id = f"{job.track_id}/{rec.variant}/{k:02d}" if rec.variant else f"{job.track_id}/{k:02d}"
        fp = clip_fingerprint(rec.path, start, end)
        if not cache.has(feature, clip_id, fp):
            cache.put(feature, clip_id, fp, feature.compute(seg))
        rows.append(
            {
                "clip_id": clip_id,
                "track_id": job.track_id,
                "path": rec.path,
                "start_s": round(start, 6),
                "end_s": round(end, 6),
                "sr": rec.native_sr,
                "valence": rec.valence,  # None where unknown (NaN in the Parquet table)
                "arousal": rec.arousal,
                "va_curve": _clip_curve(rec.va_curve, start, end),
                "style": job.style,
                "split": "",
                "source": job.source,
                "midi_path": rec.midi_path,
                "variant": rec.variant,
                "tonic": rec.tonic,
                "fingerprint": fp,
            }
        )
    return rows, silent


def _score_row(score: Score, job: TrackJob) -> dict[str, Any]:
    """The manifest row of a MIDI rendering kept without audio: the whole rendering, no audio fingerprint."""
    return {
        "clip_id": f"{job.track_id}/{score.variant}",
        "track_id": job.track_id,
        "path": score.midi_path,
        "start_s": 0.0,
        "end_s": score.seconds,
        "sr": 0,
        "valence": score.valence,
        "arousal": score.arousal,
        "va_curve": "",
        "style": job.style,
        "split": "",
        "source": job.source,
        "midi_path": score.midi_path,
        "variant": score.variant,
        "tonic": score.tonic,
        "fingerprint": "",
    }


def run_job(adapter: Adapter, job: TrackJob, ctx: Context, key: str) -> dict[str, Any]:
    """Process one track; returns (and atomically stores) its record: rows, skip reason, silent clips.

    Runs in a worker set up by ``_worker_init`` (one torch thread), or inline after calling it.
    """
    cache, feature = FeatureCache(ctx.out_dir), LogMelFeature(MelConfig(sr=ctx.sr))
    record: dict[str, Any] = {
        "track_id": job.track_id,
        "path": job.path,
        "rows": [],
        "skipped": None,
        "silent_clips": 0,
    }
    try:
        if ctx.midi_only:
            record["rows"] = [_score_row(score, job) for score in adapter.scores(job, ctx)]
        else:
            for rec in adapter.materialize(job, ctx):
                rows, silent = _clips_of(rec, job, ctx, cache, feature)
                record["rows"].extend(rows)
                record["silent_clips"] += silent
        if not record["rows"]:
            reason = "shorter than one clip" if record["silent_clips"] == 0 else "silent"
            record["skipped"] = f"{job.path}: {reason} (no usable {ctx.clip_seconds:g} s clip)"
    except MoodtuneError as exc:
        record["rows"], record["skipped"] = [], str(exc)
    write_json_atomic(ctx.out_dir / JOBS_DIR / f"{key}.json", record)
    return record


def _run_jobs(
    adapter: Adapter, jobs: list[TrackJob], ctx: Context, keys: dict[str, str], workers: int
) -> Iterator[tuple[TrackJob, dict[str, Any]]]:
    """``(job, record)`` as each job finishes: in this process, or in a pool of ``workers`` processes."""
    if workers == 1 or len(jobs) <= 1:
        if jobs:
            _worker_init()
        for job in jobs:
            yield job, run_job(adapter, job, ctx, keys[job.track_id])
        return
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), initializer=_worker_init) as pool:
        futures = {pool.submit(run_job, adapter, job, ctx, keys[job.track_id]): job for job in jobs}
        for fut in as_completed(futures):
            yield futures[fut], fut.result()


def _load_record(path: Path, cache: FeatureCache, feature: LogMelFeature) -> dict[str, Any] | None:
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if all(
        os.path.isfile(r["midi_path"]) if not r["fingerprint"] else cache.has(feature, r["clip_id"], r["fingerprint"])
        for r in record["rows"]
    ):
        return record
    return None


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)
    logging.getLogger("music21").setLevel(logging.ERROR)


def prepare(
    dataset: str,
    root: str | os.PathLike[str] | None,
    out: str | os.PathLike[str],
    clip_seconds: float = DEFAULT_CLIP_SECONDS,
    limit: int | None = None,
    workers: int | None = None,
    soundfont: str | os.PathLike[str] | None = None,
    labels: str | None = None,
    sr: int = 22050,
    seed: int = 0,
    progress: bool = True,
    warn: Any = None,
    midi_only: bool = False,
) -> PrepareResult:
    """Prepare ``dataset`` into ``out``: manifest.parquet, summary.json and the log-mel cache.

    With ``midi_only`` (builtin) the renderings are kept as MIDI only, one row each: no audio, no cache.
    ``warn`` is called with one line per skipped input (default: logging.warning).
    """
    t0 = time.perf_counter()
    if not 1.0 <= clip_seconds <= 60.0:
        raise DatasetError(f"--clip-seconds must lie in [1, 60], got {clip_seconds}")
    if limit is not None and limit < 1:
        raise DatasetError(f"--limit must be at least 1, got {limit}")
    warn = warn or log.warning
    workers = max(1, workers if workers is not None else (os.cpu_count() or 1))
    out_dir = Path(out)
    if out_dir.exists() and not out_dir.is_dir():
        raise DatasetError(f"--out {out_dir}: a file, not a folder")
    adapter = make_adapter(dataset, root, labels, seed, midi_only)
    sf2 = resolve_soundfont(soundfont)
    ctx = Context(
        out_dir=out_dir.resolve(), sr=sr, clip_seconds=clip_seconds, soundfont=str(sf2), seed=seed, midi_only=midi_only
    )
    discovery = adapter.discover(limit)
    out_dir.mkdir(parents=True, exist_ok=True)  # only once the input was found: a bad dataset leaves no folder
    waiting = f"waiting for another 'moodtune prepare' writing to {out_dir}" if progress else None
    with file_lock(out_dir / PREPARE_LOCK, waiting):  # two runs on one folder take turns; the second reuses the first
        clean_stale_temps(out_dir)
        params = {
            "version": __version__,
            "dataset": dataset,
            "sr": sr,
            "clip_seconds": clip_seconds,
            "soundfont": [str(sf2), sf2.stat().st_size],
            "render_gain": DEFAULT_GAIN,
            "seed": seed,
            "out": str(ctx.out_dir),
            **adapter.params(),
        }
        cache, feature = FeatureCache(out_dir), LogMelFeature(MelConfig(sr=sr))
        keys = {job.track_id: job.key(params) for job in discovery.jobs}
        records: dict[str, dict[str, Any]] = {}
        for job in discovery.jobs:
            rec = _load_record(out_dir / JOBS_DIR / f"{keys[job.track_id]}.json", cache, feature)
            if rec is not None:
                records[job.track_id] = rec
        pending = [job for job in discovery.jobs if job.track_id not in records]
        with progress_bar(f"preparing {dataset}", total=len(pending), enabled=progress and bool(pending)) as advance:
            for job, record in _run_jobs(adapter, pending, ctx, keys, workers):
                records[job.track_id] = record
                advance()
        skipped = list(discovery.skipped)
        rows: list[dict[str, Any]] = []
        silent_clips = 0
        for job in discovery.jobs:
            rec = records[job.track_id]
            silent_clips += rec["silent_clips"]
            if rec["skipped"]:
                skipped.append({"path": job.path, "reason": rec["skipped"]})
            rows.extend(rec["rows"])
        for item in skipped:
            warn(f"skipped {item['path']}: {item['reason'].removeprefix(item['path'] + ': ')}")
        if not rows:
            raise DatasetError(f"{dataset}: no usable clips ({len(skipped)} file(s) skipped)")
        splits = assign_splits((r["track_id"] for r in rows), seed=seed)
        for r in rows:
            r["split"] = splits[r["track_id"]]
        manifest_path = write_manifest(rows, out_dir)
        extra = {
            "dataset": dataset,
            "root": None if root is None else str(Path(root).resolve()),
            "version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "clip_seconds": clip_seconds,
            "sr": sr,
            "soundfont": str(sf2),
            **(
                {"midi_only": True, "features": {}}
                if midi_only
                else {"features": {"logmel": str(cache.folder(feature).relative_to(out_dir))}, "mel": feature.params()}
            ),
            "silent_clips_dropped": silent_clips,
            "silence_peak": SILENCE_PEAK,
        }
        summary = build_summary(rows, skipped, extra)
        write_summary(summary, out_dir)
    return PrepareResult(
        out_dir, manifest_path, summary, len(pending), len(records) - len(pending), time.perf_counter() - t0
    )
