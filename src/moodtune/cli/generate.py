"""``moodtune generate``: music for a mood, a valence/arousal point or a mood curve."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from moodtune.api import generate_to_file
from moodtune.cli.common import (
    add_command,
    add_mood_args,
    add_sampling_args,
    engine_from_args,
    print_written,
    request_fields,
    request_from_args,
)
from moodtune.fsutil import clean_stale_temps

DESCRIPTION = (
    "Generate music from a trained checkpoint. Audio engines write OUT as WAV; the symbolic engine writes OUT "
    "as MIDI with the rendered WAV, MusicXML, an engraved SVG score and a piano-roll PNG beside it."
)


def add_parser(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = add_command(sub, name, help_text, DESCRIPTION)
    add_mood_args(p)
    add_sampling_args(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    request = request_from_args(args, **request_fields(args))
    clean_stale_temps(Path(args.out).parent)  # what killed runs left in the output folder
    return print_written(console, generate_to_file(engine_from_args(args), request, args.out, plot=args.plot))
