"""``moodtune demo``: the main job on the built-in corpus."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from moodtune.cli.common import add_command, positive_int
from moodtune.demo import DEMO_OVERRIDES, run_demo

DESCRIPTION = (
    "Build the built-in mood corpus; train small spectrogram, symbolic, sequence, waveform and latent models for a "
    "few minutes each; write happy / sad / angry / calm audio with spectrogram or waveform PNGs, MIDI with rendered "
    "audio, engraved scores and piano rolls, a 30 s sad -> happy piece and a continuation; train the independent "
    "mood model and print the mood it measures in each generated file. A second run reuses the corpus and models."
)


def add_parser(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = add_command(sub, name, help_text, DESCRIPTION)
    p.add_argument("--out", default="runs/demo", help="output folder (default %(default)s)")
    p.add_argument("--limit", type=positive_int, help="use at most N pieces (default: the full built-in corpus)")
    p.add_argument("--workers", type=positive_int, help="parallel worker processes (default: all cores)")
    p.add_argument("--seconds", type=float, default=20.0, help="length of each generated clip (default %(default)s)")
    for engine, overrides in DEMO_OVERRIDES.items():
        p.add_argument(
            f"--{engine}-minutes",
            type=float,
            default=overrides["max_minutes"],
            help=f"{engine} training budget in minutes (default %(default)s)",
        )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    err = Console(stderr=True)
    report = run_demo(
        Path(args.out),
        limit=args.limit,
        workers=args.workers,
        seconds=args.seconds,
        minutes={engine: getattr(args, f"{engine}_minutes") for engine in DEMO_OVERRIDES},
        progress=not args.quiet,
        verbose=args.verbose,
        say=lambda line: console.rule(f"[bold]{line}"),
        warn=lambda line: err.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True),
    )
    for line in report.lines():
        console.print(line, highlight=False, soft_wrap=True)
    return 0
