"""``moodtune interpolate``: a piece whose mood moves from one mood to another."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from moodtune.api import generate_to_file
from moodtune.cli.common import (
    add_command,
    add_sampling_args,
    engine_from_args,
    print_written,
    request_fields,
)
from moodtune.engines.base import DEFAULT_SECONDS, Request
from moodtune.fsutil import clean_stale_temps
from moodtune.mood import Mood, Trajectory

DESCRIPTION = "Generate music whose mood moves linearly from --from to --to over --seconds."


def add_parser(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = add_command(sub, name, help_text, DESCRIPTION)
    p.add_argument("--from", dest="start", required=True, help="starting mood (name or 'valence,arousal')")
    p.add_argument("--to", dest="end", required=True, help="final mood (name or 'valence,arousal')")
    add_sampling_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    start, end = Mood.parse(args.start), Mood.parse(args.end)
    fields = request_fields(args)
    if fields["seconds"] is None:
        fields["seconds"] = DEFAULT_SECONDS
    request = Request(trajectory=Trajectory(((0.0, start), (max(fields["seconds"], 1e-3), end))), **fields)
    clean_stale_temps(Path(args.out).parent)  # what killed runs left in the output folder
    return print_written(console, generate_to_file(engine_from_args(args), request, args.out, plot=args.plot))
