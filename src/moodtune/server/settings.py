"""What a running server is allowed to do: where its models and outputs are, and its limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from moodtune.errors import MoodtuneError
from moodtune.shipped import SHIPPED_DIR

#: The names this machine answers to on its loopback interface.
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1")


@dataclass(frozen=True)
class ServerSettings:
    """Settings of one app instance (``moodtune serve`` builds them from its options).

    ``out``: the folder the jobs write into (None: a temporary folder made at start-up and removed at shut-down).
    ``models_dir``: a folder searched for runs trained by ``moodtune train`` (None: the shipped models only).
    ``workers`` generations (and as many analyses) run at once; ``queue_limit`` jobs may wait. Uploads are
    limited to ``max_upload_mb`` and ``max_analyze_seconds`` of audio, JSON bodies to ``max_body_kb``. Finished
    jobs are kept ``keep_seconds``, and at most ``keep_jobs`` of them once they are ``grace_seconds`` old (so a
    result is never deleted while its page may still be playing it). ``allowed_hosts``: the names a request's
    ``Host`` header may give (a page on another site that rebinds its name to this machine is refused); empty:
    any.
    """

    shipped_dir: Path = SHIPPED_DIR
    models_dir: Path | None = None
    out: Path | None = None
    workers: int = 2
    queue_limit: int = 64
    max_upload_mb: float = 50.0
    max_analyze_seconds: float = 600.0
    max_body_kb: float = 256.0
    keep_jobs: int = 200
    keep_seconds: float = 3600.0
    grace_seconds: float = 600.0
    preload: bool = True
    allowed_hosts: tuple[str, ...] = LOOPBACK_NAMES

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise MoodtuneError(f"workers must be >= 1, got {self.workers}")
        if self.queue_limit < 1:
            raise MoodtuneError(f"queue_limit must be >= 1, got {self.queue_limit}")
