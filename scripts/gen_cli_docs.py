"""Write docs/cli.md from the CLI's parsers (a test checks that it is current)."""

from pathlib import Path

from moodtune.cli.reference import render

if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "docs" / "cli.md"
    out.write_text(render())
    print(f"wrote {out}")
