"""Load on a running ``moodtune serve``: 32 concurrent generate requests (10 s of music each, default engine),
each followed to the end; errors, p50/p95 latency (submit -> done) and throughput.

Run alone with ``python benchmarks/server.py``; ``make bench`` includes it.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time

import httpx

from moodtune.server.load import drive, free_port

REQUESTS = 32
BODY = {"mood": "happy", "seconds": 10.0}


def bench_server(n: int = REQUESTS, workers: int = 2) -> list[tuple[str, str]]:
    """Start a server in its own process, load it, stop it; returns the result rows."""
    port = free_port()
    cmd = [sys.executable, "-m", "moodtune", "serve", "--port", str(port), "--workers", str(workers)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 120
        while True:
            try:
                if httpx.get(f"{base}/api/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if server.poll() is not None or time.time() > deadline:
                raise RuntimeError(f"the server did not start: {server.stderr.read() if server.stderr else ''}")
            time.sleep(0.2)
        drive(base, 2, BODY)  # warm-up: the first request of each worker thread
        report = drive(base, n, BODY)
    finally:
        server.terminate()
        server.wait(timeout=30)
    what = f"{n} concurrent generate requests ({BODY['seconds']:g} s of music, default engine, {workers} workers)"
    return [
        (f"server: {what}, errors", f"{report.errors} (5xx answers: {report.server_errors})"),
        (
            "server: latency p50 / p95 (submit -> done)",
            f"{report.percentile(50):.2f} s / {report.percentile(95):.2f} s",
        ),
        (
            "server: throughput",
            f"{report.throughput:.2f} pieces/s ({report.throughput * BODY['seconds']:.0f} s of music/s)",
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=REQUESTS)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    for k, v in bench_server(args.requests, args.workers):
        print(f"{k}: {v}")


if __name__ == "__main__":
    main()
