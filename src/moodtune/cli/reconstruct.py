"""``moodtune reconstruct``: encode -> decode an audio file through a model."""

from __future__ import annotations

import argparse

from rich.console import Console

from moodtune.api import reconstruct_file
from moodtune.cli.common import add_command, add_model_args, engine_from_args, print_written

DESCRIPTION = (
    "Reconstruct an audio file through a checkpoint of an engine that encodes audio (spectrogram, waveform, "
    "latent); writes OUT.wav and an original-vs-reconstruction spectrogram OUT.png, and prints the "
    "log-spectral distance and the multi-resolution STFT distance."
)


def add_parser(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = add_command(sub, name, help_text, DESCRIPTION)
    p.add_argument("input", help="audio file (wav, mp3, ogg, flac)")
    add_model_args(p, "spectrogram", " (a spectrogram, waveform or latent model)")
    p.add_argument("--out", required=True, help="output WAV")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    return print_written(console, reconstruct_file(engine_from_args(args), args.input, args.out))
