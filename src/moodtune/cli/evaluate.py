"""``moodtune evaluate``: mood control, FAD, diversity, reconstruction and symbolic metrics of a checkpoint."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console
from rich.markdown import Markdown

from moodtune.cli.common import add_command, positive_int
from moodtune.evaluation.report import EvaluateConfig, evaluate

DESCRIPTION = (
    "Generate --n samples asked for happy/angry/sad/calm in turn and measure them against real held-out clips of "
    "DATA: mood control (by an independent mood model), Fréchet Audio Distance (mfcc and mood embeddings), "
    "diversity, reconstruction (engines that encode audio), symbolic metrics vs the training data and "
    "musicality (melody, recurring bars, chords, cadences) vs real pieces (symbolic engine) and how well a mood "
    "trajectory is followed. Every table has a real-data row and a trivial-generator row. Writes "
    "OUT/report.json, OUT/report.md and plots."
)


def add_parser(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = add_command(sub, name, help_text, DESCRIPTION)
    p.add_argument("--checkpoint", required=True, help="run folder written by 'moodtune train'")
    p.add_argument("--data", required=True, help="prepared dataset the model was trained on")
    p.add_argument("--out", required=True, help="report folder")
    p.add_argument("--n", type=positive_int, default=64, help="generated samples (default %(default)s)")
    p.add_argument("--seconds", type=float, default=8.0, help="length of each sample (default %(default)s)")
    p.add_argument("--mood-model", help="mood model run folder (default: DATA/mood-model, trained there on first use)")
    p.add_argument("--trajectory", default="sad:0,happy:30", help="mood curve to follow (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="first seed (default %(default)s)")
    p.add_argument(
        "--trajectory-seeds",
        type=positive_int,
        default=5,
        help="follow the trajectory with this many seeds from --seed and report the mean (default %(default)s)",
    )
    p.add_argument(
        "--clap",
        help="also FAD with CLAP embeddings: a folder with a saved transformers ClapModel + ClapFeatureExtractor "
        "(e.g. laion/clap-htsat-unfused), or that hub id when online",
    )
    p.add_argument(
        "--guidance",
        type=float,
        help="symbolic models: the mood guidance every sample is asked with (default: the model's own)",
    )
    p.add_argument(
        "--top-p",
        type=float,
        help="symbolic models: the nucleus (top-p) every sample is drawn from (default: the model's own)",
    )
    p.add_argument(
        "--musicality-seconds",
        type=float,
        default=30.0,
        help="symbolic models: length of the pieces whose melody, bar recurrence, chords and cadences are measured "
        "(default %(default)s)",
    )
    p.add_argument(
        "--no-plan",
        action="store_true",
        help="symbolic models: sample without a plan of chords and phrases (the network alone decides every note)",
    )
    p.set_defaults(func=run)


def run(args: argparse.Namespace, console: Console) -> int:
    cfg = EvaluateConfig(
        checkpoint=args.checkpoint,
        data=args.data,
        out=args.out,
        n=args.n,
        seconds=args.seconds,
        mood_model=args.mood_model,
        trajectory=args.trajectory,
        seed=args.seed,
        trajectory_seeds=args.trajectory_seeds,
        clap=args.clap,
        guidance=args.guidance,
        top_p=args.top_p,
        musicality_seconds=args.musicality_seconds,
        plan=not args.no_plan,
    )
    evaluate(cfg, progress=not args.quiet, say=lambda line: console.print(f"[dim]{line}[/]"))
    console.print(Markdown((Path(args.out) / "report.md").read_text()))
    console.print(f"report: {args.out}/report.md  {args.out}/report.json  plots: {args.out}/*.png")
    return 0
