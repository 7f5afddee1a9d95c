"""Generation jobs: a bounded worker pool, a bounded queue in front of it, and outputs cleaned by age and count.

A job moves ``queued -> running -> done | failed``. Its progress is the stage it is in; while the engine
generates, the fraction is estimated from how long the same model took per second of music before.
"""

from __future__ import annotations

import logging
import math
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moodtune.engines.base import Request
from moodtune.errors import MoodtuneError

log = logging.getLogger(__name__)

#: Where each stage starts on the progress bar (0..1).
STAGES = {"queued": 0.0, "loading model": 0.05, "generating": 0.1, "measuring mood": 0.85, "done": 1.0}


class QueueFull(MoodtuneError):
    """Too many jobs wait already; ``retry_after`` is a guess in whole seconds of when to try again."""

    def __init__(self, waiting: int, retry_after: int) -> None:
        super().__init__(f"{waiting} jobs are waiting already; try again in about {retry_after} s")
        self.retry_after = retry_after


@dataclass
class Job:
    """One generation: what was asked, where its files go, and how far it got."""

    id: str
    model: str
    request: Request
    folder: Path
    created: float = field(default_factory=time.time)
    status: str = "queued"
    stage: str = "queued"
    stage_started: float = field(default_factory=time.time)
    expected_s: float | None = None
    finished: float | None = None
    error: str | None = None
    files: dict[str, str] = field(default_factory=dict)
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def progress(self) -> float:
        """0..1: the start of the current stage, and within ``generating`` an estimate from earlier jobs."""
        start = STAGES.get(self.stage, 0.0)
        if self.stage == "generating" and self.expected_s:
            share = min(0.95, (time.time() - self.stage_started) / self.expected_s)
            return start + share * (STAGES["measuring mood"] - start)
        return start

    def enter(self, stage: str) -> None:
        """Move to a stage of :data:`STAGES`."""
        self.stage, self.stage_started = stage, time.time()


class JobQueue:
    """Runs ``work(job)`` for each submitted job on at most ``workers`` threads, refusing new jobs with
    :class:`QueueFull` once ``queue_limit`` wait. Finished jobs are forgotten, and their folders deleted, after
    ``keep_seconds``, or beyond the newest ``keep_jobs`` once they are ``grace_seconds`` old."""

    def __init__(
        self,
        out: Path,
        work: Callable[[Job], None],
        workers: int = 2,
        queue_limit: int = 64,
        keep_jobs: int = 200,
        keep_seconds: float = 3600.0,
        grace_seconds: float = 600.0,
    ) -> None:
        self.out = out
        self.work = work
        self.workers = workers
        self.queue_limit = queue_limit
        self.keep_jobs = keep_jobs
        self.keep_seconds = keep_seconds
        self.grace_seconds = grace_seconds
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="moodtune-job")
        self._seconds_per_second: dict[str, float] = {}
        self._speed_lock = threading.Lock()

    def submit(self, model: str, request: Request) -> Job:
        """Queue a job (raises :class:`QueueFull` when too many wait)."""
        self.clean()
        with self._lock:
            waiting = sum(j.status == "queued" for j in self._jobs.values())
            if waiting >= self.queue_limit:
                raise QueueFull(waiting, self._retry_after(waiting))
            job_id = uuid.uuid4().hex
            job = Job(job_id, model, request, self.out / job_id)
            self._jobs[job_id] = job
        self._pool.submit(self._run, job)
        return job

    def get(self, job_id: str) -> Job | None:
        """The job with this id, if it is still kept."""
        with self._lock:
            return self._jobs.get(job_id)

    def _retry_after(self, waiting: int) -> int:
        """Seconds until about one waiting job has gone: the queue's work divided among the workers."""
        with self._speed_lock:
            rate = max(self._seconds_per_second.values(), default=0.05)
        queued = [j.request.seconds for j in self._jobs.values() if j.status in ("queued", "running")]
        return max(1, math.ceil((rate * sum(queued) + 0.5 * len(queued)) / self.workers / max(waiting, 1)))

    def _run(self, job: Job) -> None:
        job.status = "running"
        job.folder.mkdir(parents=True, exist_ok=True)
        with self._speed_lock:
            job.expected_s = self._seconds_per_second.get(job.model, 0.0) * job.request.seconds or None
        try:
            self.work(job)
        except MoodtuneError as exc:
            job.status, job.error = "failed", str(exc)
        except Exception as exc:
            log.exception("job %s failed", job.id)
            job.status, job.error = "failed", f"generation failed: {type(exc).__name__}: {exc}"
        else:
            job.status = "done"
            job.enter("done")
        job.finished = time.time()

    def record_speed(self, model: str, seconds_taken: float, music_seconds: float) -> None:
        """Remember how long ``model`` took per second of music (the progress estimate of its next jobs)."""
        rate = seconds_taken / max(music_seconds, 1e-3)
        with self._speed_lock:
            old = self._seconds_per_second.get(model)
            self._seconds_per_second[model] = rate if old is None else 0.5 * old + 0.5 * rate

    def clean(self) -> int:
        """Forget finished jobs older than ``keep_seconds``, and the oldest beyond ``keep_jobs`` that are past
        ``grace_seconds``, deleting their folders; returns how many went."""
        now = time.time()
        with self._lock:
            done = sorted((j for j in self._jobs.values() if j.finished is not None), key=lambda j: j.created)
            extra = max(0, len(done) - self.keep_jobs)

            def expired(rank: int, job: Job) -> bool:
                age = now - (job.finished or now)
                return age > self.keep_seconds or (rank < extra and age > self.grace_seconds)

            gone = [j for i, j in enumerate(done) if expired(i, j)]
            for job in gone:
                del self._jobs[job.id]
        for job in gone:
            shutil.rmtree(job.folder, ignore_errors=True)
        return len(gone)

    def running(self) -> int:
        """Jobs being generated now."""
        with self._lock:
            return sum(j.status == "running" for j in self._jobs.values())

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking work: jobs that have not started are dropped; with ``wait``, running ones finish first."""
        self._pool.shutdown(wait=wait, cancel_futures=True)
