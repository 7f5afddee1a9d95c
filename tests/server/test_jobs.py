"""The job queue on its own: order of states, the queue limit, cleaning by count and age, failures."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest

from moodtune.engines.base import Request
from moodtune.errors import MoodtuneError
from moodtune.mood import Mood
from moodtune.server.jobs import Job, JobQueue, QueueFull

REQUEST = Request(mood=Mood.named("calm"), seconds=10)


def write_file(job: Job) -> None:
    job.enter("generating")
    (job.folder / "music.wav").write_bytes(b"RIFF")
    job.files = {"wav": "music.wav"}


def finish(queue: JobQueue, job: Job, timeout: float = 10) -> Job:
    deadline = time.time() + timeout
    while job.finished is None:
        assert time.time() < deadline, "job did not finish"
        time.sleep(0.01)
    return job


def test_a_job_runs_to_done_with_its_files(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path, write_file, workers=1)
    job = finish(queue, queue.submit("m", REQUEST))
    assert (job.status, job.stage, job.progress) == ("done", "done", 1.0)
    assert (job.folder / "music.wav").is_file() and queue.get(job.id) is job


def test_a_library_error_is_the_jobs_message(tmp_path: Path) -> None:
    def refuse(job: Job) -> None:
        raise MoodtuneError("no such style")

    queue = JobQueue(tmp_path, refuse)
    job = finish(queue, queue.submit("m", REQUEST))
    assert job.status == "failed" and job.error == "no such style"


def test_progress_is_estimated_from_the_models_earlier_speed(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path, write_file)
    queue.record_speed("m", seconds_taken=2.0, music_seconds=10.0)  # 0.2 s per second of music
    job = Job("x", "m", REQUEST, tmp_path / "x", expected_s=2.0)
    job.enter("generating")
    job.stage_started -= 1.0  # half of the expected time has gone
    assert 0.4 < job.progress < 0.55
    job.stage_started -= 100.0
    assert job.progress < 0.85, "an estimate never claims the stage is over"


def test_the_queue_limit_refuses_with_a_retry_time(tmp_path: Path) -> None:
    gate = threading.Event()
    queue = JobQueue(tmp_path, lambda job: gate.wait(10), workers=1, queue_limit=1)
    running = queue.submit("m", REQUEST)
    while running.status != "running":
        time.sleep(0.01)
    queue.submit("m", REQUEST)
    with pytest.raises(QueueFull) as refused:
        queue.submit("m", REQUEST)
    assert refused.value.retry_after >= 1
    gate.set()
    queue.shutdown()


def test_finished_jobs_are_cleaned_by_count_and_by_age(tmp_path: Path) -> None:
    queue = JobQueue(tmp_path, write_file, workers=1, keep_jobs=2, keep_seconds=3600, grace_seconds=0)
    jobs = [finish(queue, queue.submit("m", REQUEST)) for _ in range(4)]
    queue.clean()  # submit cleans too: the 4th submission already dropped the 1st job
    assert [queue.get(j.id) is None for j in jobs] == [True, True, False, False]
    assert not jobs[0].folder.exists() and jobs[3].folder.exists()
    queue.keep_seconds = 0.5
    jobs[2].finished = time.time() - 1
    assert queue.clean() == 1 and queue.get(jobs[2].id) is None and queue.get(jobs[3].id) is not None
