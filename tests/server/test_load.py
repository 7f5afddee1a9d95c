"""Concurrent requests against a real server: all finish, none is answered with a 5xx."""

from __future__ import annotations

from moodtune.server.load import drive


def test_eight_concurrent_generations_finish_without_server_errors(live_server: str) -> None:
    report = drive(live_server, 8, {"mood": "tense", "seconds": 3})
    assert report.server_errors == 0
    assert report.errors == 0, report.failures
    assert len(report.latencies) == 8 and report.throughput > 0
    assert report.percentile(50) <= report.percentile(95)
