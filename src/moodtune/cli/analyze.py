"""``moodtune analyze``: the valence/arousal and nearest named mood of audio files."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from moodtune.api import load_mood_model
from moodtune.audio.io import AUDIO_EXTENSIONS
from moodtune.cli.common import add_command, positive_float
from moodtune.errors import MoodtuneError
from moodtune.evaluation.analyze import analyze_files, expand_inputs, write_analysis

DESCRIPTION = (
    "Music-emotion recognition: print each file's predicted valence, arousal and nearest named mood, using the "
    "shipped mood model or one trained by 'moodtune train mood'. Folders are searched for audio files; unreadable "
    "files are reported and skipped. With --curve, also a per-second curve (CSV and plot)."
)


def add_parser(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = add_command(sub, name, help_text, DESCRIPTION)
    p.add_argument("inputs", nargs="+", help="audio files or folders")
    p.add_argument("--model", help="mood model run folder made by 'moodtune train mood' (default: the shipped one)")
    p.add_argument("--curve", action="store_true", help="also measure the mood every second")
    p.add_argument("--step", type=positive_float, default=1.0, help="curve step in seconds (default %(default)s)")
    p.add_argument("--out", help="folder for the curves (NAME.csv and NAME.png per file; default: print only)")
    p.add_argument("--csv", help="write the per-file table to this CSV")
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    err = Console(stderr=True)
    model = load_mood_model(args.model)
    files = expand_inputs(args.inputs)
    if not files:
        raise MoodtuneError(f"no audio files ({', '.join(AUDIO_EXTENSIONS)}) in {', '.join(args.inputs)}")
    skipped: list[str] = []

    results = list(analyze_files(model, files, args.curve, args.step, lambda _, reason: skipped.append(reason)))
    if not results:
        more = f" (and {len(skipped) - 1} more file(s) skipped)" if len(skipped) > 1 else ""
        raise MoodtuneError(f"nothing to analyse: {skipped[0]}{more}")
    for reason in skipped:
        err.print(f"[yellow]skipped:[/] {reason}", highlight=False, soft_wrap=True)
    table = Table(title=f"mood of {len(results)} file(s)")
    for col in ("file", "seconds", "valence", "arousal", "mood"):
        table.add_column(col, justify="right" if col in ("seconds", "valence", "arousal") else "left", overflow="fold")
    for r in results:
        table.add_row(str(r.path), f"{r.seconds:.1f}", f"{r.valence:+.3f}", f"{r.arousal:+.3f}", r.mood)
    console.print(table)
    if args.curve and not args.out:
        for r in results:
            console.print(f"# {r.path}\ntime,valence,arousal", highlight=False)
            for t, (v, a) in zip(r.times, r.curve, strict=True):
                console.print(f"{t:.2f},{v:.4f},{a:.4f}", highlight=False)
    for line in write_analysis(results, args.csv, args.out):
        console.print(line)
    if skipped:
        console.print(f"{len(skipped)} file(s) skipped")
    return 0
