"""Command line: parses arguments and calls the library; user errors -> one line, exit code 2."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from rich.console import Console

from moodtune import __version__
from moodtune.errors import MoodtuneError

EXIT_USAGE = 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _add_prepare(sub: argparse._SubParsersAction) -> None:
    from moodtune.data.prepare import DATASETS, DEFAULT_CLIP_SECONDS

    p = sub.add_parser(
        "prepare",
        help="turn a dataset into a manifest of clips with cached log-mel features",
        description=(
            "Prepare a dataset: cut its tracks into clips, label them, split by track into "
            "train/val/test, and cache log-mel features. Writes OUT/manifest.parquet, "
            "OUT/summary.json and OUT/cache/. Unreadable inputs are skipped and counted; a second "
            "run with the same inputs reuses everything. Datasets: builtin (music21 scores rendered "
            "under controlled mood cues; no ROOT), deam, gtzan, midi (any MIDI folder), audio (any "
            "audio folder)."
        ),
    )
    p.add_argument("dataset", choices=DATASETS, help="which dataset adapter to use")
    p.add_argument("root", nargs="?", help="dataset folder (not for builtin)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--clip-seconds", type=float, default=DEFAULT_CLIP_SECONDS, help="clip length (default %(default)s)")
    p.add_argument("--limit", type=_positive_int, help="use at most N tracks (pieces for builtin): a tiny dataset")
    p.add_argument("--workers", type=_positive_int, help="parallel worker processes (default: all cores)")
    p.add_argument("--soundfont", help="General MIDI .sf2 used to render MIDI (default: the one pretty_midi ships)")
    p.add_argument("--labels", help="midi only: CSV with columns file, valence, arousal")
    p.add_argument("--seed", type=int, default=0, help="seed of the split and the builtin cue draws (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_prepare)


def _print_summary(console: Console, summary: dict, seconds: float, reused: int) -> None:
    from rich.table import Table

    console.print(
        f"[bold]{summary['dataset']}[/]: {summary['clips']} clips from {summary['tracks']} tracks "
        f"({summary['hours'] * 60:.1f} min), {summary['skipped_count']} file(s) skipped, "
        f"{summary.get('silent_clips_dropped', 0)} silent clip(s) dropped; {seconds:.1f} s"
        + (f" ({reused} track(s) reused from an earlier run)" if reused else "")
    )
    table = Table(title="clips per split / quadrant / style", show_header=True)
    table.add_column("group")
    table.add_column("value")
    table.add_column("clips", justify="right")
    for split, c in summary["splits"].items():
        table.add_row("split", split, f"{c['clips']} ({c['tracks']} tracks)")
    for q, n in summary["quadrants"].items():
        table.add_row("quadrant", q, str(n))
    for s, n in summary["styles"].items():
        table.add_row("style", s, str(n))
    console.print(table)


def _cmd_prepare(args: argparse.Namespace, console: Console) -> int:
    from moodtune.data.prepare import prepare

    err = Console(stderr=True)
    result = prepare(
        args.dataset,
        args.root,
        args.out,
        clip_seconds=args.clip_seconds,
        limit=args.limit,
        workers=args.workers,
        soundfont=args.soundfont,
        labels=args.labels,
        seed=args.seed,
        progress=not args.quiet,
        warn=lambda line: err.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True),
    )
    _print_summary(console, result.summary, result.seconds, result.jobs_reused)
    console.print(f"manifest: {result.manifest_path}")
    return 0


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="the main job on the built-in corpus",
        description="Build the built-in mood corpus (or reuse it) and print its summary.",
    )
    p.add_argument("--out", default="runs/demo", help="output folder (default %(default)s)")
    p.add_argument("--limit", type=_positive_int, help="use at most N pieces (default: the full built-in corpus)")
    p.add_argument("--workers", type=_positive_int, help="parallel worker processes (default: all cores)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_demo)


def _cmd_demo(args: argparse.Namespace, console: Console) -> int:
    from pathlib import Path

    from moodtune.data.prepare import prepare

    err = Console(stderr=True)
    out = Path(args.out)
    console.rule("[bold]1. built-in mood corpus")
    result = prepare(
        "builtin",
        None,
        out / "data",
        limit=args.limit,
        workers=args.workers,
        progress=not args.quiet,
        warn=lambda line: err.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True),
    )
    _print_summary(console, result.summary, result.seconds, result.jobs_reused)
    console.print(f"manifest: {result.manifest_path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``moodtune`` argument parser with all subcommands."""
    parser = argparse.ArgumentParser(
        prog="moodtune",
        description="Mood-conditioned music generation: prepare data, train, generate, evaluate.",
    )
    parser.add_argument("--version", action="version", version=f"moodtune {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_prepare(sub)
    _add_demo(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``moodtune`` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    console = Console()
    try:
        return int(args.func(args, console) or 0)
    except MoodtuneError as exc:
        print(f"moodtune: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("moodtune: interrupted (finished work is kept; run the same command again to resume)", file=sys.stderr)
        return 130
