"""Argument helpers the command modules share: value types, output flags, mood and sampling options, and
the generation of options from a configuration dataclass."""

from __future__ import annotations

import argparse
import dataclasses
import math
import types
import typing
from typing import Any

from rich.console import Console

from moodtune.api import make_request, open_engine, symbolic_options
from moodtune.engines.base import DEFAULT_SECONDS, Engine, Request
from moodtune.engines.plan import DEFAULT_REPEAT
from moodtune.engines.symbolic import MAX_TEMPO, MIN_TEMPO
from moodtune.errors import MoodtuneError
from moodtune.shipped import shipped_engines, shipped_index
from moodtune.training.config import option_flag


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number above 0 (a zero length or step is refused, not replaced by a default)."""
    try:
        value = float(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}") from exc
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text!r}")
    return value


def add_command(
    sub: argparse._SubParsersAction, name: str, help_text: str, description: str
) -> argparse.ArgumentParser:
    """A subcommand parser with the output flags every command has (``--quiet``, ``--verbose``)."""
    p = sub.add_parser(name, help=help_text, description=description)
    add_output_flags(p)
    return p


def add_output_flags(p: argparse.ArgumentParser) -> None:
    """``--quiet`` (no progress) and ``--verbose`` (library logs and warnings too)."""
    g = p.add_argument_group("output")
    g.add_argument("--quiet", action="store_true", help="no progress output")
    g.add_argument("--verbose", action="store_true", help="also show library logs, model summaries and warnings")


def add_mood_args(p: argparse.ArgumentParser) -> None:
    """The ways of giving a mood: a name, a valence/arousal point, or a trajectory (string or CSV)."""
    g = p.add_argument_group("mood (give one)")
    g.add_argument("--mood", help="a named mood (happy, sad, angry, calm, ...) or 'valence,arousal'")
    g.add_argument("--valence", type=float, help="valence in [-1, 1] (with --arousal)")
    g.add_argument("--arousal", type=float, help="arousal in [-1, 1] (with --valence)")
    g.add_argument("--trajectory", help="mood curve, e.g. 'sad:0,happy:30' (MOOD:SECONDS, linear between)")
    g.add_argument("--trajectory-file", help="CSV with columns time,valence,arousal")


def add_model_args(p: argparse.ArgumentParser, engine: str | None = None, what: str = "") -> None:
    """``--checkpoint RUN`` or ``--engine NAME`` (a shipped model; default ``engine``, else the best measured)."""
    engines = shipped_engines()
    default = engine or shipped_index().get("default")
    g = p.add_argument_group("model (default: a shipped model)")
    g.add_argument("--checkpoint", help=f"run folder written by 'moodtune train'{what}")
    g.add_argument(
        "--engine",
        help=f"shipped model to use: {', '.join(engines) or 'none installed'}"
        + (f" (default {default}{'' if engine else ', the best measured mood control'})" if default else ""),
    )
    p.set_defaults(default_engine=engine)


def engine_from_args(args: argparse.Namespace) -> Engine:
    """The engine :func:`add_model_args` asked for."""
    if args.checkpoint is None and args.engine is None and args.default_engine is not None:
        return open_engine(engine=args.default_engine)
    return open_engine(args.checkpoint, args.engine)


def add_sampling_args(p: argparse.ArgumentParser, symbolic: bool = True) -> None:
    """Model, output and the Request fields; with ``symbolic`` the symbolic engine's own options."""
    add_model_args(p)
    p.add_argument("--out", required=True, help="output WAV; for a symbolic checkpoint the .mid (WAV/score beside it)")
    p.add_argument(
        "--style",
        help="style / genre known to the model (default: one of the model's styles, drawn with the seed)",
    )
    p.add_argument(
        "--seconds",
        type=float,
        help=f"length (default {DEFAULT_SECONDS:g}, or a longer trajectory's end; symbolic engine: or --bars, "
        "not both)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    p.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default %(default)s)")
    p.add_argument("--plot", action="store_true", help="also write the spectrogram or waveform as PNG beside it")
    if symbolic:
        g = p.add_argument_group("symbolic engine only")
        g.add_argument("--notes", type=positive_int, help="stop after this many notes instead of --seconds")
        g.add_argument("--top-k", type=positive_int, help="sample among the K most likely tokens")
        g.add_argument(
            "--top-p",
            type=float,
            help="nucleus sampling: draw from the most likely tokens whose probability adds up to P, in (0, 1] "
            "(default 0.95; 1 keeps every token)",
        )
        g.add_argument("--primer", help="MIDI file whose notes the generation continues")
        g.add_argument(
            "--tempo",
            type=float,
            help=f"beats per minute, in [{MIN_TEMPO:g}, {MAX_TEMPO:g}] (default: the mood chooses each bar's tempo)",
        )
        g.add_argument(
            "--key",
            help="key of the piece, e.g. 'D major', 'F# minor', 'Bb major' (default: the mood chooses the mode)",
        )
        g.add_argument("--meter", help="time signature N/4, N from 1 to 7, e.g. 3/4 (default: the model's choice)")
        g.add_argument("--bars", type=positive_int, help="length in bars instead of --seconds")
        g.add_argument(
            "--instruments",
            help="General MIDI instruments of the melody, accompaniment and bass tracks, e.g. piano,strings,bass "
            "(one plays all, two play the melody and the rest; names, GM program names or numbers 0-127; "
            "default: the style's ensemble)",
        )
        g.add_argument(
            "--loop",
            action="store_true",
            help="end on the dominant that leads back into the first bar, with the audio's release wrapped onto its "
            "start so it loops without a click (whole phrases nearest --seconds unless --bars is given)",
        )
        g.add_argument(
            "--soundfont",
            help="what renders the audio: 'bundled' (default: the small General MIDI soundfont the built-in corpus "
            "and the mood model were rendered with), 'fluidr3' (the larger FluidR3_GM, where installed) or a .sf2 file",
        )
        g.add_argument(
            "--repeat",
            type=float,
            help=f"chance, in [0, 1], that a phrase restates an earlier one (default {DEFAULT_REPEAT:g})",
        )
        g.add_argument(
            "--no-plan",
            action="store_true",
            help="write without a plan of chords and phrases (the network alone decides every note)",
        )
        g.add_argument(
            "--guidance",
            type=float,
            help="how hard to push towards the asked mood, in [0, 10]: 1 none, above 1 more (default 4 for a model "
            "trained with --mood-dropout, else 1)",
        )


def request_fields(args: argparse.Namespace) -> dict[str, Any]:
    """The Request fields :func:`add_sampling_args` adds (with the symbolic options, when any is set)."""
    if getattr(args, "bars", None) is not None and args.seconds is not None:
        raise MoodtuneError("--bars sets the length in bars: give --bars or --seconds, not both")
    names = ("tempo", "key", "meter", "bars", "repeat", "instruments", "soundfont")
    controls = {name: getattr(args, name, None) for name in names}
    if getattr(args, "no_plan", False):
        controls["plan"] = False
    if getattr(args, "loop", False):
        controls["loop"] = True
    return {
        "seconds": args.seconds,  # None: the default, or a trajectory's own length
        "style": args.style,
        "seed": args.seed,
        "temperature": args.temperature,
        "options": symbolic_options(args.notes, args.top_k, args.top_p, args.primer, args.guidance, **controls),
    }


def request_from_args(args: argparse.Namespace, **fields: Any) -> Request:
    """A Request from :func:`add_mood_args` (and ``fields``)."""
    return make_request(args.mood, args.valence, args.arousal, args.trajectory, args.trajectory_file, **fields)


def print_written(console: Console, written: dict[str, object]) -> int:
    """Print what a command wrote, one ``name: value`` per line; exit code 0."""
    for key, value in written.items():
        console.print(f"{key}: {value}", highlight=False, soft_wrap=True)
    return 0


def _scalar_type(annotation: Any) -> type:
    """``int | None`` -> int; ``str`` -> str."""
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0]
    return annotation


def _noting(action: type[argparse.Action]) -> type[argparse.Action]:
    """``action`` that also adds its option's dest to ``namespace.given`` (the options typed, not defaulted)."""

    class Noting(action):  # type: ignore[valid-type, misc]
        def __call__(self, parser: Any, namespace: Any, values: Any, option_string: Any = None) -> None:
            super().__call__(parser, namespace, values, option_string)
            namespace.given = {*getattr(namespace, "given", ()), self.dest}

    return Noting


def given_options(args: argparse.Namespace) -> frozenset[str]:
    """The configuration options typed on the command line (not left at their defaults)."""
    return frozenset(getattr(args, "given", ()))


def add_config_options(p: argparse.ArgumentParser, config: type) -> None:
    """One option per field of a configuration dataclass (see :func:`moodtune.training.config.option`),
    with the dataclass's defaults; fields without a default are required."""
    hints = typing.get_type_hints(config)
    for f in dataclasses.fields(config):
        if not f.metadata.get("cli", True):
            continue
        kind = _scalar_type(hints[f.name])
        required = f.default is dataclasses.MISSING
        help_text = f.metadata.get("help", "")
        kwargs: dict[str, Any] = {"dest": f.name}
        if kind is bool:
            kwargs["action"] = _noting(argparse.BooleanOptionalAction if f.default else argparse._StoreTrueAction)
        else:
            kwargs["action"] = _noting(argparse._StoreAction)
            kwargs["type"] = positive_int if kind is int and f.metadata.get("positive") else kind
        if f.metadata.get("choices"):
            kwargs["choices"] = f.metadata["choices"]
        if required:
            kwargs["required"] = True
        else:
            kwargs["default"] = f.default
            if f.default is not None and kind is not bool:
                help_text += " (default %(default)s)"
            elif kind is bool:
                help_text += f" (default: {'on' if f.default else 'off'})"
        p.add_argument(option_flag(f), help=help_text, **kwargs)


def config_from_args(config: type, args: argparse.Namespace) -> Any:
    """The configuration dataclass built from the options :func:`add_config_options` added (validated by it)."""
    return config(**{f.name: getattr(args, f.name) for f in dataclasses.fields(config) if f.metadata.get("cli", True)})


#: Exit code of a command that found nothing to work on (as for a usage error).
EXIT_NOTHING = 2
