"""``moodtune models``: the shipped models and the local runs, with their measured mood control."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from moodtune.catalog import CONTROL_KEYS, local_models, shipped_models
from moodtune.cli.common import add_command

DESCRIPTION = (
    "List the models shipped with moodtune (use one with 'generate --engine NAME' or moodtune.load(NAME)) and "
    "the runs trained under --dir (use one with --checkpoint RUN), with the mood control 'moodtune evaluate' "
    "measured: quadrant accuracy, arousal and valence r (asked vs measured), diversity relative to real music. "
    "A local run shows it when an evaluation report under --dir names it."
)
HEADINGS = {"quadrant_accuracy": "quadrant", "arousal_r": "arousal r", "valence_r": "valence r"}


def add_parser(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = add_command(sub, name, help_text, DESCRIPTION)
    p.add_argument("--dir", default="runs", help="folder searched for trained runs (default %(default)s)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    entries = shipped_models() + local_models(args.dir)
    table = Table(title=f"{len(entries)} model(s): shipped, then under {args.dir}")
    table.add_column("model", overflow="fold", min_width=16)
    table.add_column("engine")
    for key in CONTROL_KEYS:
        table.add_column(HEADINGS.get(key, key.replace("_", " ")), justify="right")
    table.add_column("MB", justify="right")
    for e in entries:
        name = f"{e.name} (default)" if e.default else e.name
        values = ["–" if e.control is None or k not in e.control else f"{e.control[k]:.2f}" for k in CONTROL_KEYS]
        table.add_row(name, e.engine, *values, f"{e.megabytes:g}")
    console.print(table)
    if not entries:
        console.print("no models: run 'make models' (shipped) or 'moodtune train' (local)")
    return 0
