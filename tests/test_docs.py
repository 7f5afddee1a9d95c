"""The documentation matches the code: docs/cli.md is generated from the parsers."""

from pathlib import Path

from moodtune.cli.reference import render

ROOT = Path(__file__).resolve().parent.parent


def test_cli_reference_is_current():
    expected = render()
    actual = (ROOT / "docs" / "cli.md").read_text()
    assert actual == expected, "docs/cli.md is stale: run 'python scripts/gen_cli_docs.py'"


def test_cli_reference_covers_every_command_and_engine():
    text = render()
    for command in ("prepare", "train", "generate", "evaluate", "analyze", "demo"):
        assert f"## `moodtune {command}`" in text
    for engine in ("spectrogram", "symbolic", "sequence", "waveform", "latent", "mood"):
        assert f"### `moodtune train {engine}`" in text
