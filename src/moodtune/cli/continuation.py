"""``moodtune continue``: continue a piece of audio with the sequence engine."""

from __future__ import annotations

import argparse

from rich.console import Console

from moodtune.api import continue_file
from moodtune.cli.common import (
    add_command,
    add_model_args,
    add_mood_args,
    engine_from_args,
    print_written,
    request_from_args,
)

DESCRIPTION = (
    "Encode IN.wav, roll the sequence model on from its last slice for --seconds, and write the input followed "
    "by the continuation (crossfaded) to OUT.wav, with its spectrogram PNG beside it. The mood defaults to calm."
)


def add_parser(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = add_command(sub, name, help_text, DESCRIPTION)
    p.add_argument("input", help="audio file to continue (wav, mp3, ogg, flac)")
    add_mood_args(p)
    add_model_args(p, "sequence", " (a sequence model)")
    p.add_argument("--out", required=True, help="output WAV")
    p.add_argument("--seconds", type=float, default=30.0, help="length of the continuation (default %(default)s)")
    p.add_argument("--style", help="style known to the model (default: unknown)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    p.add_argument("--temperature", type=float, default=1.0, help="noise scale (default %(default)s)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    if args.mood is None and args.valence is None and args.trajectory is None and args.trajectory_file is None:
        args.mood = "calm"
    fields = {"seconds": args.seconds, "style": args.style, "seed": args.seed, "temperature": args.temperature}
    request = request_from_args(args, **fields)
    return print_written(console, continue_file(engine_from_args(args), args.input, request, args.out))
