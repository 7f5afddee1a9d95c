"""Fixtures for the web app: an in-process client, and a real uvicorn server on a free loopback port."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from fastapi.testclient import TestClient

from moodtune.server import ServerSettings, create_app
from moodtune.server.load import free_port

#: The address the in-process client talks to (the server serves its loopback names only).
LOCAL = "http://127.0.0.1"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    """The app with the shipped models, writing under ``tmp_path``."""
    with TestClient(create_app(ServerSettings(out=tmp_path / "serve")), base_url=LOCAL) as c:
        yield c


def wait_job(client: TestClient, url: str, timeout: float = 60.0) -> dict:
    """Poll a job until it is done or failed."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        job = client.get(url).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {url} still not finished after {timeout} s")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``http://127.0.0.1:PORT``: the app served by uvicorn in a thread for the whole session."""
    out = tmp_path_factory.mktemp("live") / "serve"
    config = uvicorn.Config(
        create_app(ServerSettings(out=out)), host="127.0.0.1", port=free_port(), log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started:
        if not thread.is_alive() or time.time() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{config.port}"
    server.should_exit = True
    thread.join(timeout=10)
