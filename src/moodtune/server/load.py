"""A load client for a running server: many generate requests at once, each polled to the end; used by the load
test and ``make bench``. It talks to the URL it is given, and nothing else."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx
import numpy as np


@dataclass
class LoadReport:
    """What ``n`` concurrent generations met: the HTTP statuses seen, failed jobs and each request's latency
    (submit -> job done) in seconds."""

    statuses: list[int] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def server_errors(self) -> int:
        """Answers with a 5xx status."""
        return sum(s >= 500 for s in self.statuses)

    @property
    def errors(self) -> int:
        """Requests that did not end in a finished job."""
        return len(self.failures)

    def percentile(self, q: float) -> float:
        """Latency percentile ``q`` (0-100) in seconds."""
        return float(np.percentile(self.latencies, q)) if self.latencies else float("nan")

    @property
    def throughput(self) -> float:
        """Finished jobs per second of wall time."""
        return len(self.latencies) / self.wall_s if self.wall_s else 0.0


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now (for a server started next)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _one(client: httpx.Client, body: dict[str, Any], timeout_s: float, report: LoadReport) -> None:
    started = time.perf_counter()
    try:
        r = client.post("/api/generate", json=body)
        report.statuses.append(r.status_code)
        if r.status_code != 202:
            report.failures.append(f"generate answered {r.status_code}: {r.text[:200]}")
            return
        url = r.json()["url"]
        while time.perf_counter() - started < timeout_s:
            job = client.get(url)
            report.statuses.append(job.status_code)
            state = job.json() if job.status_code == 200 else {"status": "failed", "error": job.text[:200]}
            if state["status"] == "done":
                report.latencies.append(time.perf_counter() - started)
                return
            if state["status"] == "failed":
                report.failures.append(f"job failed: {state.get('error')}")
                return
            time.sleep(0.05)
        report.failures.append(f"job not done after {timeout_s} s")
    except httpx.HTTPError as exc:
        report.failures.append(f"{type(exc).__name__}: {exc}")


def drive(base_url: str, n: int, body: dict[str, Any], timeout_s: float = 300.0) -> LoadReport:
    """Send ``n`` generate requests with ``body`` at once to the server at ``base_url`` and follow each job."""
    report = LoadReport()
    started = time.perf_counter()
    with httpx.Client(base_url=base_url, timeout=60.0) as client, ThreadPoolExecutor(max_workers=n) as pool:
        for future in [pool.submit(_one, client, body, timeout_s, report) for _ in range(n)]:
            future.result()
    report.wall_s = time.perf_counter() - started
    return report
