"""One default per knob: ``moodtune train NAME`` parses to exactly the config the Python API builds, and an
option NAME does not take is refused."""

import dataclasses

import pytest

from moodtune.cli import build_parser, main
from moodtune.cli.common import config_from_args
from moodtune.cli.train import configs
from moodtune.errors import MoodtuneError
from moodtune.registry import FAMILIES
from moodtune.training.config import option_flag

REQUIRED = {"sequence": {"vae": "v"}, "latent": {"vae": "v"}}


def test_every_family_and_the_mood_model_can_be_trained_from_the_cli():
    assert set(configs()) == {*FAMILIES, "mood"}


@pytest.mark.parametrize("engine", [*FAMILIES, "mood"])
def test_cli_defaults_equal_api_defaults(engine):
    config, _ = configs()[engine]
    extra = REQUIRED.get(engine, {})
    argv = ["train", engine, "--data", "d", "--out", "o", *[x for k, v in extra.items() for x in (f"--{k}", v)]]
    args = build_parser("train").parse_args(argv)
    assert config_from_args(args.config, args) == config(data="d", out="o", **extra)


@pytest.mark.parametrize("engine", [*FAMILIES, "mood"])
def test_every_config_field_is_an_option_with_help(engine):
    config, _ = configs()[engine]
    text = build_parser("train")._subparsers._group_actions[0].choices["train"]
    sub = text._subparsers._group_actions[0].choices[engine]
    flags = {s for a in sub._actions for s in a.option_strings}
    for f in dataclasses.fields(config):
        assert option_flag(f) in flags, f.name
        assert f.metadata["help"], f.name


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["train", "mood", "--data", "d", "--out", "o", "--accelerator", "gpu"],
            "unrecognized arguments: --accelerator",
        ),
        (["train", "mood", "--data", "d", "--out", "o", "--resume"], "unrecognized arguments: --resume"),
        (
            ["train", "spectrogram", "--data", "d", "--out", "o", "--tokens", "notes"],
            "unrecognized arguments: --tokens",
        ),
        (["train", "symbolic", "--data", "d", "--out", "o", "--beta", "1"], "unrecognized arguments: --beta"),
        (["train", "waveform", "--data", "d", "--out", "o", "--size", "huge"], "invalid choice: 'huge'"),
        (["train", "sequence", "--data", "d", "--out", "o"], "the following arguments are required: --vae"),
    ],
)
def test_options_an_engine_does_not_take_are_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and message in capsys.readouterr().err


@pytest.mark.parametrize(
    ("engine", "fields", "message"),
    [
        ("spectrogram", {"epochs": 0}, "--epochs must be positive"),
        ("waveform", {"beta": -1.0}, "--beta must be at least 0"),
        ("symbolic", {"seq_len": 1}, "--seq-len must be at least 2"),
        ("symbolic", {"mood_dropout": 1.0}, "--mood-dropout must be at most 0.9"),
        ("latent", {}, "needs one codec"),
        ("latent", {"vae": "a", "encodec": "b"}, "needs one codec"),
        ("spectrogram", {"max_minutes": float("nan")}, "finite"),
    ],
)
def test_configs_refuse_bad_values_by_flag_name(engine, fields, message):
    config, _ = configs()[engine]
    with pytest.raises(MoodtuneError, match=message):
        config(data="d", out="o", **fields)


def test_a_bad_value_from_the_config_is_one_line(capsys):
    argv = ["train", "spectrogram", "--data", "d", "--out", "o", "--beta", "-1"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["moodtune: error: --beta must be at least 0, not -1.0"]
