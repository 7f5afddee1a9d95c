"""``docs/cli.md``: the command reference, generated from the parsers (``python scripts/gen_cli_docs.py``)."""

from __future__ import annotations

import argparse
import functools

from moodtune.cli import build_parser

WIDTH = 100


def _subparsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _help(parser: argparse.ArgumentParser) -> str:
    parser.formatter_class = functools.partial(argparse.HelpFormatter, width=WIDTH)  # type: ignore[assignment]
    return parser.format_help().rstrip()


def render() -> str:
    """The whole reference as Markdown: every command's and subcommand's ``--help``."""
    root = build_parser()
    lines = [
        "# Command reference",
        "",
        "Generated from the parsers by `python scripts/gen_cli_docs.py`; `moodtune COMMAND --help` prints the same.",
        "",
        "```",
        _help(root),
        "```",
    ]

    def add(parser: argparse.ArgumentParser, title: str, level: int) -> None:
        lines.extend(["", f"{'#' * level} `{title}`", "", "```", _help(parser), "```"])
        for name, child in _subparsers(parser).items():
            add(child, f"{title} {name}", level + 1)

    for name, parser in _subparsers(root).items():
        add(parser, f"moodtune {name}", 2)
    return "\n".join(lines) + "\n"
