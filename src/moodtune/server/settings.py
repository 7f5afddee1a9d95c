"""What a running server is allowed to do: where its models and outputs are, and its limits."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from moodtune.errors import MoodtuneError
from moodtune.shipped import SHIPPED_DIR


@dataclass(frozen=True)
class ServerSettings:
    """Settings of one app instance (``moodtune serve`` builds them from its options).

    ``out``: the folder the jobs write into (None: a temporary folder made at start-up and removed at shut-down).
    ``models_dir``: a folder searched for runs trained by ``moodtune train`` (None: the shipped models only).
    """

    shipped_dir: Path = SHIPPED_DIR
    models_dir: Path | None = None
    out: Path | None = None
    workers: int = 2
    queue_limit: int = 64
    max_upload_mb: float = 50.0
    keep_jobs: int = 200
    keep_seconds: float = 3600.0
    preload: bool = True

    def __post_init__(self) -> None:
        if self.workers < 1:
            raise MoodtuneError(f"workers must be >= 1, got {self.workers}")
        if self.queue_limit < 1:
            raise MoodtuneError(f"queue_limit must be >= 1, got {self.queue_limit}")
