"""Progress on stderr: a rich bar on a terminal; plain lines at intervals when stderr is a log or a pipe
(so a CI log or ``nohup`` file shows how far a long job has come); nothing when disabled."""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

#: Seconds between progress lines when stderr is not a terminal.
LINE_INTERVAL_S = 30.0


@contextlib.contextmanager
def progress_bar(
    description: str, total: int, enabled: bool = True, interval_s: float = LINE_INTERVAL_S
) -> Iterator[Callable[[], None]]:
    """Yield an ``advance()`` callable that moves progress of ``total`` steps forward by one."""
    if not enabled:
        yield lambda: None
        return
    if not sys.stderr.isatty():
        with _lines(description, total, interval_s) as advance:
            yield advance
        return
    columns = (
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True)) as bar:
        task = bar.add_task(description, total=total)
        yield lambda: bar.advance(task)


@contextlib.contextmanager
def _lines(description: str, total: int, interval_s: float) -> Iterator[Callable[[], None]]:
    """``description: done/total (pct), elapsed`` at the start, every ``interval_s`` seconds and at the end."""
    started = last = time.perf_counter()
    done = 0

    def say() -> None:
        pct = f" ({100 * done / total:.0f}%)" if total else ""
        print(f"{description}: {done}/{total}{pct}, {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)

    def advance() -> None:
        nonlocal done, last
        done += 1
        if time.perf_counter() - last >= interval_s:
            last = time.perf_counter()
            say()

    say()
    yield advance
    say()
