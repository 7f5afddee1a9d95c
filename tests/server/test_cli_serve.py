"""``moodtune serve``'s options and errors (the server itself is tested through the app)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from moodtune.cli import build_parser, main
from moodtune.server import ServerSettings


def test_defaults_come_from_the_settings() -> None:
    args = build_parser("serve").parse_args(["serve"])
    assert (args.host, args.port) == ("127.0.0.1", 8000), "localhost unless asked"
    assert args.workers == ServerSettings().workers and args.queue == ServerSettings().queue_limit


def test_a_port_in_use_is_one_line_and_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"127.0.0.1:{port} is in use" in err and "Traceback" not in err


def test_a_missing_models_folder_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["serve", "--models", str(tmp_path / "nowhere")]) == 2
    assert "nowhere: no such folder" in capsys.readouterr().err


def test_bad_worker_count_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser("serve").parse_args(["serve", "--workers", "0"])
    assert exit_info.value.code == 2
    assert "positive integer" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["70000", "-1", "0", "http"])
def test_a_bad_port_is_refused(port: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        build_parser("serve").parse_args(["serve", "--port", port])
    assert exit_info.value.code == 2 and "from 1 to 65535" in capsys.readouterr().err


def test_an_out_that_is_a_file_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    file = tmp_path / "taken.wav"
    file.write_bytes(b"x")
    assert main(["serve", "--out", str(file)]) == 2
    assert "a file, not a folder" in capsys.readouterr().err
    assert main(["serve", "--out", str(file / "below")]) == 2
    assert "cannot be created" in capsys.readouterr().err


def test_the_names_served_follow_the_bound_address_and_allow_host() -> None:
    from moodtune.cli.serve import allowed_hosts
    from moodtune.server.settings import LOOPBACK_NAMES

    assert allowed_hosts("127.0.0.1", []) == LOOPBACK_NAMES
    assert allowed_hosts("192.168.1.5", ["music.lan"]) == (*LOOPBACK_NAMES, "192.168.1.5", "music.lan")
    assert allowed_hosts("0.0.0.0", []) == ()  # every network, names unknown: any name
    assert allowed_hosts("0.0.0.0", ["music.lan"]) == (*LOOPBACK_NAMES, "music.lan")
