"""``moodtune prepare``: a dataset -> manifest of clips with cached features."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from moodtune.cli.common import add_command, positive_int
from moodtune.data.prepare import DATASETS, DEFAULT_CLIP_SECONDS, prepare

DESCRIPTION = (
    "Prepare a dataset: cut its tracks into clips, label them, split by track into train/val/test, and cache "
    "log-mel features. Writes OUT/manifest.parquet, OUT/summary.json and OUT/cache/. Unreadable inputs are "
    "skipped and counted; a second run with the same inputs reuses everything. Datasets: builtin (music21 "
    "scores rendered under controlled mood cues; no ROOT), deam, gtzan, midi (any MIDI folder), audio (any "
    "audio folder)."
)


def add_parser(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = add_command(sub, name, help_text, DESCRIPTION)
    p.add_argument("dataset", choices=DATASETS, help="which dataset adapter to use")
    p.add_argument("root", nargs="?", help="dataset folder (not for builtin)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--clip-seconds", type=float, default=DEFAULT_CLIP_SECONDS, help="clip length (default %(default)s)")
    p.add_argument("--limit", type=positive_int, help="use at most N tracks (pieces for builtin): a tiny dataset")
    p.add_argument("--workers", type=positive_int, help="parallel worker processes (default: all cores)")
    p.add_argument("--soundfont", help="General MIDI .sf2 used to render MIDI (default: the one pretty_midi ships)")
    p.add_argument("--labels", help="midi only: CSV with columns file, valence, arousal")
    p.add_argument("--seed", type=int, default=0, help="seed of the split and the builtin cue draws (default 0)")
    p.add_argument(
        "--midi-only",
        action="store_true",
        help="builtin only: keep each rendering as a whole piece in MIDI (up to 2 minutes), without audio or "
        "features. Cheap, so every piece of the collections is taken (about 2,800) unless --limit: more "
        "training music for the symbolic engine; the audio engines, the mood model and evaluate refuse it",
    )
    p.set_defaults(func=run)


def print_summary(console: Console, summary: dict, seconds: float, reused: int) -> None:
    """The prepared dataset in one line and a table of clips per split, quadrant and style."""
    unit = "MIDI renderings" if summary.get("midi_only") else "clips"
    console.print(
        f"[bold]{summary['dataset']}[/]: {summary['clips']} {unit} from {summary['tracks']} tracks "
        f"({summary['hours'] * 60:.1f} min), {summary['skipped_count']} file(s) skipped, "
        f"{summary.get('silent_clips_dropped', 0)} silent clip(s) dropped; {seconds:.1f} s"
        + (f" ({reused} track(s) reused from an earlier run)" if reused else "")
    )
    table = Table(title=f"{unit} per split / quadrant / style", show_header=True)
    for col in ("group", "value"):
        table.add_column(col)
    table.add_column(unit, justify="right")
    for split, c in summary["splits"].items():
        table.add_row("split", split, f"{c['clips']} ({c['tracks']} tracks)")
    for q, n in summary["quadrants"].items():
        table.add_row("quadrant", q, str(n))
    for s, n in summary["styles"].items():
        table.add_row("style", s, str(n))
    console.print(table)


def run(args: argparse.Namespace, console: Console) -> int:
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
        midi_only=args.midi_only,
        progress=not args.quiet,
        warn=lambda line: err.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True),
    )
    print_summary(console, result.summary, result.seconds, result.jobs_reused)
    console.print(f"manifest: {result.manifest_path}")
    return 0
