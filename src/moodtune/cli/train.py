"""``moodtune train NAME``: one subcommand per model family (and the mood model), whose options are generated
from the family's configuration dataclass, so the CLI's defaults are the Python API's."""

from __future__ import annotations

import argparse

from rich.console import Console

from moodtune.cli.common import add_config_options, add_output_flags, config_from_args, given_options
from moodtune.evaluation.mood_training import MoodTrainConfig, train_mood
from moodtune.registry import FAMILIES, resolve
from moodtune.training.recipe import train

DESCRIPTION = (
    "Train an engine on a folder made by 'moodtune prepare'. Writes RUN/model.safetensors and RUN/config.json "
    "(all that generation needs), RUN/checkpoints/{best,last}.ckpt (to resume), RUN/logs/*/metrics.csv and "
    "RUN/plots/. Seeds are fixed, so a CPU run is reproducible. 'moodtune train NAME --help' lists NAME's options."
)

MOOD_SUMMARY = "the independent valence/arousal regressor that evaluate and analyze use (the judge)"


def configs() -> dict[str, tuple[type, str]]:
    """``name -> (config dataclass, one-line summary)`` of everything ``moodtune train`` trains."""
    out = {name: (resolve(f.config), f.summary) for name, f in FAMILIES.items()}
    out["mood"] = (MoodTrainConfig, MOOD_SUMMARY)
    return out


def add_parser(sub: argparse._SubParsersAction, name: str, help_text: str) -> None:
    p = sub.add_parser(name, help=help_text, description=DESCRIPTION)
    families = p.add_subparsers(dest="engine", required=True, metavar="ENGINE")
    for engine, (config, summary) in configs().items():
        q = families.add_parser(engine, help=summary, description=f"Train the {engine} model: {summary}.")
        add_config_options(q, config)
        add_output_flags(q)
        q.set_defaults(func=run, config=config)


def run(args: argparse.Namespace, console: Console) -> int:
    cfg = config_from_args(args.config, args)
    if isinstance(cfg, MoodTrainConfig):
        result = train_mood(cfg, progress=not args.quiet)
    else:
        result = train(cfg, progress=not args.quiet, verbose=args.verbose, given=given_options(args))
        if result is None:  # another process of a multi-process run; the first one prints the summary
            return 0
    for line in result.lines():
        console.print(line, highlight=False, soft_wrap=True)
    return 0
