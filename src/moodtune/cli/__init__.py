"""Command line: ``moodtune COMMAND ...``. This dispatcher builds the parser and imports only the module of
the command being run (one module per command in this package), so ``moodtune --help`` is fast. Each
command module parses its arguments and calls the library; user errors print one line and exit 2."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys
import warnings
from collections.abc import Sequence

from rich.console import Console

from moodtune import __version__
from moodtune.errors import MoodtuneError, os_error_message

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130
#: What Ctrl+C leaves, and how to go on, per command (the rest: nothing half-written is kept).
RESUMING = {
    "prepare": "finished tracks are kept; run the same command again to resume",
    "train": "the last checkpoint is kept; add --resume to the same command to go on",
    "evaluate": "run the same command again",
}


def interrupted(command: str | None) -> str:
    """The line Ctrl+C prints for ``command``."""
    how = RESUMING.get(command or "", "no half-written file is kept; run the command again")
    return f"moodtune: interrupted ({how})"


#: command -> (module in this package, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "prepare": ("prepare", "turn a dataset into a manifest of clips with cached features"),
    "train": ("train", "train a model family (or the mood model) on a prepared dataset"),
    "generate": ("generate", "generate music for a mood, a valence/arousal point or a mood curve"),
    "interpolate": ("interpolate", "morph from one mood to another over time"),
    "reconstruct": ("reconstruct", "encode -> decode an audio file (shows what a model keeps)"),
    "continue": ("continuation", "continue a piece with the sequence engine"),
    "vary": ("vary", "make a variation of an audio file with the waveform engine"),
    "evaluate": ("evaluate", "measure a checkpoint: mood control, FAD, diversity, reconstruction, symbolic metrics"),
    "models": ("models", "list the shipped and local models with their measured mood control"),
    "analyze": ("analyze", "predict the valence/arousal and nearest named mood of audio files"),
    "serve": ("serve", "the web page and API: a mood pad, curves drawn by hand, players, scores, analysis"),
    "demo": ("demo", "the main job on the built-in corpus: train every engine, generate, measure"),
}


def command_module(name: str) -> object:
    """The module of a command (imported now)."""
    return importlib.import_module(f"moodtune.cli.{COMMANDS[name][0]}")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``moodtune`` parser. Only ``command``'s options are built (all of them when ``command`` is None)."""
    parser = argparse.ArgumentParser(
        prog="moodtune",
        description="Mood-conditioned music generation: prepare data, train, generate, evaluate.",
        epilog="'moodtune COMMAND --help' explains a command.",
    )
    parser.add_argument("--version", action="version", version=f"moodtune {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, (_, help_text) in COMMANDS.items():
        if command is None or name == command:
            command_module(name).add_parser(sub, name, help_text)  # type: ignore[attr-defined]
        else:
            sub.add_parser(name, help=help_text)
    return parser


def _command_of(argv: Sequence[str]) -> str | None:
    return next((a for a in argv if a in COMMANDS), None)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``moodtune`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = build_parser(_command_of(argv)).parse_args(argv)  # imports the command's module: can take seconds
    except KeyboardInterrupt:
        print(interrupted(_command_of(argv)), file=sys.stderr)
        return EXIT_INTERRUPTED
    verbose = bool(getattr(args, "verbose", False))
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(levelname)s: %(message)s")
    console = Console()
    with warnings.catch_warnings():
        if not verbose:
            for category in (DeprecationWarning, FutureWarning, UserWarning):
                warnings.filterwarnings("ignore", category=category)
        try:
            return int(args.func(args, console) or 0)
        except MoodtuneError as exc:
            print(f"moodtune: error: {exc}", file=sys.stderr)
            return EXIT_USAGE
        except OSError as exc:  # a path that cannot be written or read, a full disk
            print(f"moodtune: error: {os_error_message(exc)}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            print(interrupted(_command_of(argv)), file=sys.stderr)
            return EXIT_INTERRUPTED
