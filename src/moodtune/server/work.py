"""What a job does, with the same library calls as ``moodtune generate`` and ``moodtune analyze``."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from moodtune.api import generate_to_file
from moodtune.audio.io import AudioReadError
from moodtune.evaluation.analyze import Analysis, analyze_files
from moodtune.evaluation.mood_model import MoodModel
from moodtune.server.jobs import Job, JobQueue
from moodtune.server.library import ModelLibrary

#: The files of a result a client may fetch, by kind.
FILE_KINDS = ("wav", "png", "midi", "musicxml", "svg")
#: The step of measured mood curves, in seconds.
CURVE_STEP_S = 1.0


def measure(mood_model: MoodModel, path: Path) -> Analysis:
    """The mood model's reading of an audio file: the whole and second by second (AudioReadError if unreadable)."""
    reasons: list[str] = []
    found = list(analyze_files(mood_model, [path], True, CURVE_STEP_S, lambda _, reason: reasons.append(reason)))
    if not found:
        raise AudioReadError(reasons[0] if reasons else f"{path}: unreadable")
    return found[0]


def curve_json(times: np.ndarray, va: np.ndarray) -> dict[str, list[float]]:
    """``{"times", "valence", "arousal"}`` lists of a ``[N]`` time axis and a ``[N, 2]`` curve, rounded."""
    return {
        "times": [round(float(t), 3) for t in times],
        "valence": [round(float(v), 4) for v in va[:, 0]],
        "arousal": [round(float(a), 4) for a in va[:, 1]],
    }


def point_json(analysis: Analysis) -> dict[str, float | str]:
    """The whole file's mood: valence, arousal and the nearest named mood."""
    return {"valence": round(analysis.valence, 4), "arousal": round(analysis.arousal, 4), "mood": analysis.mood}


def run_generation(library: ModelLibrary, queue: JobQueue, job: Job) -> None:
    """Generate ``job.request`` with ``job.model`` into ``job.folder``, then measure the audio; fills ``job.files``
    (kind -> file name) and ``job.result``."""
    started = time.time()
    job.enter("loading model")
    engine = library.engine(job.model)
    job.enter("generating")
    generating = time.time()
    target = job.folder / ("music.mid" if engine.writes_midi else "music.wav")
    written = generate_to_file(engine, job.request, target, plot=True)
    queue.record_speed(job.model, time.time() - generating, job.request.seconds)
    job.enter("measuring mood")
    analysis = measure(library.mood_model, Path(written["wav"]))
    job.files = {kind: Path(written[kind]).name for kind in FILE_KINDS if written.get(kind)}
    job.result = {
        "seconds": round(analysis.seconds, 3),
        "measured": point_json(analysis),
        "curve": curve_json(analysis.times, analysis.curve),
        "asked_curve": curve_json(analysis.times, job.request.mood_at(analysis.times)),
        "took_s": round(time.time() - started, 3),
    }
    piece = {k: written[k] for k in ("bars", "form", "chords", "instruments", "soundfont") if written.get(k)}
    if piece:
        job.result["piece"] = piece
