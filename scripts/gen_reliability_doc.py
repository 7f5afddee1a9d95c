"""Write docs/reliability.md: the guarantees, the threat model and the matrix of bad inputs tried, each run
through the real CLI (tests/test_reliability.py runs the same cases and checks that the page is current)."""

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.faults import CASES, render, run_case  # noqa: E402

HEAD = ROOT / "scripts" / "reliability-head.md"


def page() -> str:
    """The whole page: the hand-written part, then the generated matrix."""
    outcomes = []
    for case in CASES:
        with tempfile.TemporaryDirectory() as folder:
            outcomes.append((case, run_case(case, Path(folder))))
    return HEAD.read_text() + render(outcomes)


if __name__ == "__main__":
    out = ROOT / "docs" / "reliability.md"
    out.write_text(page())
    print(f"wrote {out}")
