"""``moodtune demo``: the shipped models heard and measured on one page (``--train``: train everything first)."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.table import Table

from moodtune.cli.common import add_command, positive_float, positive_int
from moodtune.errors import MoodtuneError
from moodtune.registry import resolve
from moodtune.showcase import run_showcase

DESCRIPTION = (
    "With the shipped models: generate happy / sad / angry / calm with every engine, a 30 s sad -> happy piece "
    "with every engine, a continuation and a variation of a held-out clip; measure each with the shipped mood "
    "model; write OUT/index.html, one page with a player, spectrogram or score, and the numbers for every clip "
    "(it opens from disk). With --train: build the built-in corpus, train every engine and the mood model for a "
    "few minutes each (about 15 minutes) and measure what they make."
)
#: Engines whose training budget ``--train`` takes (defaults: moodtune.demo.DEMO_OVERRIDES).
#: The training demo is imported only with ``--train``: it loads Lightning, seconds the shipped demo need not pay.
TRAIN_DEMO = "moodtune.demo:run_demo"
TRAIN_ENGINES = ("spectrogram", "symbolic", "sequence", "waveform", "latent")


def add_parser(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = add_command(sub, name, help_text, DESCRIPTION)
    p.add_argument("--out", default="runs/demo", help="output folder (default %(default)s)")
    p.add_argument("--seconds", type=positive_float, help="length of each mood clip (default 10; with --train 20)")
    p.add_argument("--train", action="store_true", help="train every engine on the built-in corpus first")
    g = p.add_argument_group("with --train")
    g.add_argument("--limit", type=positive_int, help="use at most N pieces (default: the full built-in corpus)")
    g.add_argument("--workers", type=positive_int, help="parallel worker processes (default: all cores)")
    for engine in TRAIN_ENGINES:
        g.add_argument(f"--{engine}-minutes", type=float, help=f"{engine} training budget in minutes")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    if args.train:
        return _train_demo(args, console)
    given = [f"--{k.replace('_', '-')}" for k in ("limit", "workers", *(f"{e}_minutes" for e in TRAIN_ENGINES))]
    misplaced = [flag for flag in given if getattr(args, flag[2:].replace("-", "_")) is not None]
    if misplaced:
        raise MoodtuneError(
            f"{', '.join(misplaced)}: only with --train (the demo of the shipped models trains nothing)"
        )
    seconds = 10.0 if args.seconds is None else args.seconds
    report = run_showcase(Path(args.out), seconds=seconds, say=lambda line: console.print(line))
    table = Table(title="nearest mood the shipped mood model hears (green: in the asked quadrant)")
    table.add_column("engine")
    for label in ("happy", "sad", "angry", "calm"):
        table.add_column(f"asked {label}")
    table.add_column("sad->happy r v, a")
    for engine in report.metrics:
        cells = []
        for label in ("happy", "sad", "angry", "calm"):
            clip = next(c for c in report.clips if c.engine == engine and c.label == label)
            cells.append(f"{'[green]' if clip.in_asked_quadrant else '[red]'}{clip.heard}[/]")
        r = report.trajectory_r(engine)
        name = f"{engine} *" if engine == report.default_engine else engine
        table.add_row(name, *cells, "–" if r is None else f"{r[0]:.2f}, {r[1]:.2f}")
    console.print(table)
    console.print(f"* default engine. {len(report.clips)} clips in {report.seconds:.0f} s.")
    console.print(f"page: {report.plots['page']}", highlight=False, soft_wrap=True)
    return 0


def _train_demo(args: argparse.Namespace, console: Console) -> int:
    err = Console(stderr=True)
    minutes = {e: m for e in TRAIN_ENGINES if (m := getattr(args, f"{e}_minutes")) is not None}
    report = resolve(TRAIN_DEMO)(
        Path(args.out),
        limit=args.limit,
        workers=args.workers,
        seconds=20.0 if args.seconds is None else args.seconds,
        minutes=minutes,
        progress=not args.quiet,
        verbose=args.verbose,
        say=lambda line: console.rule(f"[bold]{line}"),
        warn=lambda line: err.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True),
    )
    for line in report.lines():
        console.print(line, highlight=False, soft_wrap=True)
    return 0
