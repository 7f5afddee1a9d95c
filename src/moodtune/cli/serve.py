"""``moodtune serve``: the web page and JSON API on a local port."""

from __future__ import annotations

import argparse
import dataclasses
import errno
import os
import socket
from pathlib import Path

from rich.console import Console

from moodtune.cli.common import add_command, positive_int
from moodtune.errors import MoodtuneError
from moodtune.server import ServerSettings, create_app
from moodtune.server.settings import LOOPBACK_NAMES

DESCRIPTION = (
    "Serve moodtune's page and API: open http://HOST:PORT/ for the valence/arousal pad (click for a mood, draw a "
    "curve of them), players, spectrograms, scores, downloads and analysis of your own recordings; the API is "
    "documented at /docs. Works offline with the shipped models; runs trained under --models are offered too. "
    "Binds to 127.0.0.1 (this machine only) unless --host says otherwise."
)
DEFAULT_RUNS = Path("runs")
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(ServerSettings)}


def port_number(text: str) -> int:
    """argparse type: a TCP port, 1-65535."""
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"a port is a whole number from 1 to 65535, got {text!r}")
    return int(text)


def out_folder(text: str) -> Path:
    """The results folder: created if missing; refused when it is a file or cannot be written."""
    out = Path(text)
    if out.exists() and not out.is_dir():
        raise MoodtuneError(f"--out {out}: a file, not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise MoodtuneError(f"--out {out}: cannot be created ({exc.strerror or exc})") from exc
    if not os.access(out, os.W_OK | os.X_OK):
        raise MoodtuneError(f"--out {out}: not writable")
    return out


def add_parser(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = add_command(sub, name, help_text, DESCRIPTION)
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default %(default)s; 0.0.0.0: every network)")
    p.add_argument("--port", type=port_number, default=8000, help="port (default %(default)s)")
    p.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="also answer requests that name this host (repeatable; default: the loopback names and --host, or "
        "any name when --host is 0.0.0.0 or ::)",
    )
    p.add_argument("--models", help=f"folder searched for trained runs (default: {DEFAULT_RUNS}/ when it exists)")
    p.add_argument(
        "--workers",
        type=positive_int,
        default=_DEFAULTS["workers"],
        help="generations run at once (default %(default)s)",
    )
    p.add_argument(
        "--queue",
        type=positive_int,
        default=_DEFAULTS["queue_limit"],
        help="jobs that may wait; more are answered 429 (default %(default)s)",
    )
    p.add_argument("--out", help="folder for the results (default: a temporary folder, removed on exit)")
    p.set_defaults(func=run)


#: The addresses that bind every network (IPv4, IPv6).
EVERY_NETWORK = ("0.0.0.0", "::")


def allowed_hosts(host: str, extra: list[str]) -> tuple[str, ...]:
    """The names requests may give in their Host header: the loopback names, the bound address and ``extra``;
    any (empty) when listening on every network without ``extra`` (the names it is reached by are not known)."""
    if host in EVERY_NETWORK and not extra:
        return ()
    return tuple(dict.fromkeys([*LOOPBACK_NAMES, *([] if host in EVERY_NETWORK else [host]), *extra]))


def _check_port(host: str, port: int) -> None:
    """Fail with one line when the address cannot be bound (in use, or not this machine's)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            why = "is in use; pick another with --port" if exc.errno == errno.EADDRINUSE else f"cannot be bound: {exc}"
            raise MoodtuneError(f"{host}:{port} {why}") from exc


def run(args: argparse.Namespace, console: Console) -> int:
    import uvicorn

    if args.models is not None and not Path(args.models).is_dir():
        raise MoodtuneError(f"--models {args.models}: no such folder")
    models = Path(args.models) if args.models else (DEFAULT_RUNS if DEFAULT_RUNS.is_dir() else None)
    settings = ServerSettings(
        models_dir=models,
        out=out_folder(args.out) if args.out else None,
        workers=args.workers,
        queue_limit=args.queue,
        allowed_hosts=allowed_hosts(args.host, args.allow_host),
    )
    _check_port(args.host, args.port)
    shown = "127.0.0.1" if args.host in EVERY_NETWORK else args.host
    console.print(f"moodtune: open [bold]http://{shown}:{args.port}/[/] (API reference at /docs); Ctrl+C stops")
    if args.host in EVERY_NETWORK:
        console.print("[yellow]listening on every network: anyone who can reach this machine can use it[/]")
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="info" if args.verbose else "warning")
    return 0
