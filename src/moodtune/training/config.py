"""Training configuration: the one place every default lives.

Each family has a dataclass deriving from :class:`TrainConfig` (the fields every Lightning-trained
family shares). Fields are declared with :func:`option`, whose metadata (help text, choices, the
command-line flag) lets the CLI generate each family's ``moodtune train NAME`` options from the
dataclass, so the CLI and the Python API cannot disagree on a default.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import MISSING, dataclass, field, fields
from typing import Any, ClassVar

from moodtune.errors import MoodtuneError

SIZES = ("debug", "small", "base")
STRATEGIES = ("auto", "ddp", "ddp_spawn", "fsdp")
PRECISIONS = ("32", "16-mixed", "bf16-mixed")


def option(
    default: Any = MISSING,
    *,
    help: str,
    flag: str | None = None,
    choices: tuple[str, ...] | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    positive: bool = False,
    cli: bool = True,
) -> Any:
    """A config field with its command-line description.

    ``flag`` overrides the ``--field-name`` spelling, ``choices`` restricts the value, ``minimum``, ``maximum``
    and ``positive`` (> 0) are checked when the config is built; ``cli=False`` keeps a field off the
    command line (set by the API only).
    """
    meta = {
        "help": help,
        "flag": flag,
        "choices": choices,
        "minimum": minimum,
        "maximum": maximum,
        "positive": positive,
        "cli": cli,
    }
    return field(default=default, metadata=meta)


def option_flag(f: dataclasses.Field) -> str:
    """The command-line flag of a config field."""
    return f.metadata.get("flag") or "--" + f.name.replace("_", "-")


@dataclass(kw_only=True)
class RunConfig:
    """Fields every training run has: where the data is, where the run goes, the random seed."""

    engine: ClassVar[str] = ""

    data: str = option(help="prepared dataset folder (made by 'moodtune prepare')")
    out: str = option(help="run folder to write")
    seed: int = option(0, help="random seed; a CPU run with the same seed repeats exactly")

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None or isinstance(value, bool):
                continue
            flag = option_flag(f)
            choices = f.metadata.get("choices")
            if choices and value not in choices:
                raise MoodtuneError(f"{flag} must be one of {', '.join(choices)}, not {value!r}")
            if isinstance(value, float) and not math.isfinite(value):
                raise MoodtuneError(f"{flag} must be a finite number, not {value}")
            if f.metadata.get("positive") and value <= 0:
                raise MoodtuneError(f"{flag} must be positive, not {value}")
            minimum = f.metadata.get("minimum")
            if minimum is not None and value < minimum:
                raise MoodtuneError(f"{flag} must be at least {minimum:g}, not {value}")
            maximum = f.metadata.get("maximum")
            if maximum is not None and value > maximum:
                raise MoodtuneError(f"{flag} must be at most {maximum:g}, not {value}")

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (saved in the run's ``train_config.json`` and checkpoint)."""
        return dataclasses.asdict(self)


@dataclass(kw_only=True)
class TrainConfig(RunConfig):
    """Fields every Lightning-trained family shares: length, time budget, hardware, resuming."""

    epochs: int = option(30, help="maximum number of epochs", positive=True)
    max_minutes: float | None = option(None, help="stop training after this many minutes", positive=True)
    accelerator: str = option("auto", help="where to train", choices=("auto", "cpu", "gpu"))
    devices: int = option(
        1,
        help="devices per machine: GPUs, or CPU processes (one per core); more than 1 trains data-parallel",
        positive=True,
    )
    num_nodes: int = option(1, help="machines to train on together (see docs/scaling.md)", positive=True)
    strategy: str = option(
        "auto",
        help="how several devices share the work: auto (ddp when there are several), ddp (one process per device, "
        "the usual choice), ddp_spawn (processes started from this one), fsdp (GPUs: weights sharded too)",
        choices=STRATEGIES,
    )
    precision: str = option(
        "32",
        help="arithmetic: 32 (full), 16-mixed (GPUs) or bf16-mixed (recent GPUs and CPUs with bfloat16 support)",
        choices=PRECISIONS,
    )
    resume: bool = option(False, help="continue the run in --out from its last checkpoint")
    size: str = option("small", help="network size: debug (tests), small (CPU) or base", choices=SIZES)
    batch_size: int = option(32, help="examples per batch", positive=True)
    lr: float = option(1e-3, help="learning rate", positive=True)
    limit_train_batches: int | None = option(None, help="batches per training epoch (default: all)", positive=True)
    limit_val_batches: int | None = option(None, help="batches per validation (default: all)", positive=True)


def from_saved(cfg: TrainConfig, saved: dict[str, Any], given: frozenset[str] | None = None) -> TrainConfig:
    """The config saved in a run, resumed by this call.

    An option the user set is one named in ``given``, or, when ``given`` is None, one that is not at its default.
    The folders are this call's; the :data:`RESUME_FREE` options (length, hardware) are this call's when set,
    else the run's; any other option keeps the run's value, and setting it to another value is refused."""
    known = {f.name for f in fields(cfg)}
    kept = {k: v for k, v in saved.items() if k in known}
    values = _plain(cfg.to_dict())
    defaults = _plain({f.name: _default(f) for f in fields(cfg)})

    def asked(name: str) -> bool:
        return name in given if given is not None else values[name] != defaults.get(name, MISSING)

    for name, value in values.items():
        if name in RESUME_FREE:
            continue
        if name in kept and asked(name) and value != _plain({name: kept[name]})[name]:
            raise MoodtuneError(
                f"--resume continues the run with the settings it started with: {name} was {kept[name]!r}, not "
                f"{value!r}; leave --{name.replace('_', '-')} out, or train a new run into another --out"
            )
    free = RESUME_FREE & known  # a family has only some of them (adversarial_minutes: the spectrogram one)
    chosen = {name: getattr(cfg, name) for name in free if name in ALWAYS_THIS_CALL or asked(name)}
    return type(cfg)(**{**kept, **chosen})


#: Options a resumed run takes from the call that resumes it even when left out.
ALWAYS_THIS_CALL = frozenset({"resume", "out", "data"})
#: Options a resumed run may change: how much longer it trains, where its data and run folder are, its hardware.
RESUME_FREE = frozenset(
    {
        *("epochs", "max_minutes", "adversarial_minutes", "resume", "out", "data"),
        *("accelerator", "devices", "num_nodes", "strategy", "precision"),
    }
)


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not MISSING:
        return f.default
    return f.default_factory() if f.default_factory is not MISSING else MISSING


def _plain(values: dict[str, Any]) -> dict[str, Any]:
    """Tuples as lists, as a saved JSON config has them (MISSING kept as is)."""
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


@dataclass(kw_only=True)
class VAETrainConfig(TrainConfig):
    """Fields of the VAE families: the KL weight and its warm-up."""

    latent_dim: int = option(32, help="size of the latent space", positive=True)
    beta: float = option(0.1, help="KL weight after the warm-up", minimum=0.0)
    kl_warmup_steps: int = option(200, help="optimiser steps over which the KL weight ramps up from 0", minimum=0)
