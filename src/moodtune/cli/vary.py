"""``moodtune vary``: a variation of an audio file with the waveform engine."""

from __future__ import annotations

import argparse

from rich.console import Console

from moodtune.api import vary_file
from moodtune.cli.common import add_command, add_model_args, engine_from_args, print_written
from moodtune.mood import Mood

DESCRIPTION = (
    "Encode IN.wav window by window with a waveform checkpoint, move each latent by --amount times the spread of "
    "the training latents (0 = plain reconstruction), decode, and write OUT.wav (at the model's sample rate) with "
    "a waveform plot OUT.png of input and variation."
)


def add_parser(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = add_command(sub, name, help_text, DESCRIPTION)
    p.add_argument("input", help="audio file (wav, mp3, ogg, flac)")
    add_model_args(p, "waveform", " (a waveform model)")
    p.add_argument("--out", required=True, help="output WAV")
    p.add_argument("--amount", type=float, default=0.5, help="how far to move in latent space (default %(default)s)")
    p.add_argument("--mood", help="condition encoder and decoder on this mood (default: unknown)")
    p.add_argument("--style", help="style known to the model (default: unknown)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    mood = Mood.parse(args.mood) if args.mood else None
    engine = engine_from_args(args)
    return print_written(console, vary_file(engine, args.input, args.out, args.amount, args.seed, mood, args.style))
