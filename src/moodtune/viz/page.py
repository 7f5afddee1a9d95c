"""The demo's static page: ``index.html`` with relative links only, so it opens from disk with no server."""

from __future__ import annotations

import os
from datetime import datetime
from html import escape
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from moodtune.fsutil import atomic_path

if TYPE_CHECKING:
    from moodtune.showcase import Clip, ShowcaseReport

STYLE = """
body { font-family: system-ui, sans-serif; margin: 2rem auto; max-width: 1200px; color: #222; padding: 0 1rem; }
h1 { margin-bottom: 0.2rem; } .sub { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: 1rem 0; } td, th { border: 1px solid #ddd; padding: 0.3rem 0.6rem; }
th { background: #f4f4f4; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.plots img { max-width: 100%; } .grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(270px, 1fr));
  gap: 1rem; } .card { border: 1px solid #ddd; border-radius: 6px; padding: 0.6rem; }
.card h3 { margin: 0 0 0.3rem; font-size: 1rem; } .card img { width: 100%; } audio { width: 100%; }
.ok { color: #087f23; } .miss { color: #b00020; } .small { font-size: 0.85rem; color: #555; }
"""


def _rel(path: str | os.PathLike[str], root: Path) -> str:
    return escape(quote(os.path.relpath(Path(path).resolve(), root.resolve()).replace(os.sep, "/")))


def _num(x: Any, fmt: str = "{:.2f}") -> str:
    return "–" if x is None else fmt.format(x)


def _card(clip: Clip, root: Path) -> str:
    f = clip.files
    v, a = clip.measured
    if clip.asked is not None:
        hit = clip.in_asked_quadrant
        verdict = f'<span class="{"ok" if hit else "miss"}">heard as {escape(clip.heard)}</span>'
        asked = f"asked {clip.asked[0]:+.2f}, {clip.asked[1]:+.2f}; "
    else:
        verdict, asked = f"heard as {escape(clip.heard)} overall", ""
    parts = [f"<div class='card'><h3>{escape(clip.label)}</h3>"]
    parts.append(f"<div class='small'>{asked}measured {v:+.2f}, {a:+.2f}: {verdict}</div>")
    parts.append(f"<audio controls preload='none' src='{_rel(f['wav'], root)}'></audio>")
    for key in ("png", "svg"):
        if f.get(key):
            parts.append(f"<img loading='lazy' src='{_rel(f[key], root)}' alt='{key} of {escape(clip.label)}'>")
    links = [f"<a href='{_rel(f[k], root)}' download>{k.upper()}</a>" for k in ("wav", "midi", "musicxml") if f.get(k)]
    parts.append(f"<div class='small'>{' · '.join(links)} · {clip.seconds_taken:.1f} s</div></div>")
    return "".join(parts)


def _summary_table(report: ShowcaseReport) -> str:
    rows = [
        "<table><tr><th>engine</th><th>moods in the asked quadrant (here)</th><th>quadrant acc. (evaluate, n 64)</th>"
        "<th>arousal r</th><th>valence r</th><th>diversity / real</th><th>trajectory r valence, arousal (here)"
        "</th></tr>"
    ]
    for engine, m in report.metrics.items():
        hits, n = report.in_quadrant(engine)
        r = report.trajectory_r(engine)
        name = f"{engine} (default)" if engine == report.default_engine else engine
        rows.append(
            f"<tr><td>{escape(name)}</td><td class='num'>{hits} / {n}</td>"
            f"<td class='num'>{_num(m.get('quadrant_accuracy'))}</td><td class='num'>{_num(m.get('arousal_r'))}</td>"
            f"<td class='num'>{_num(m.get('valence_r'))}</td><td class='num'>{_num(m.get('diversity_vs_real'))}</td>"
            f"<td class='num'>{'–' if r is None else f'{r[0]:.2f}, {r[1]:.2f}'}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def write_showcase_page(report: ShowcaseReport, path: str | os.PathLike[str]) -> Path:
    """Write the demo's page at ``path`` (inside ``report.out``)."""
    root = Path(path).parent
    body = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>moodtune demo</title>",
        f"<style>{STYLE}</style></head><body>",
        "<h1>moodtune demo</h1>",
        f"<p class='sub'>{datetime.now():%Y-%m-%d %H:%M} · shipped models · {report.seconds:.0f} s · "
        f"every clip measured by the shipped mood model (valence, arousal in [-1, 1])</p>",
        _summary_table(report),
        "<p class='small'>'Here' is this demo's clips (seed 0). The evaluate columns are the models' cards: 64 "
        "samples of 8 s, read by the mood model, in docs/models.md.</p>",
        "<div class='plots'>",
    ]
    for key in ("circumplex", "trajectory"):
        if key in report.plots:
            body.append(f"<img src='{_rel(report.plots[key], root)}' alt='{key}'>")
    body.append("</div>")
    if report.example:
        body.append(
            f"<p class='small'>Held-out clip continued and varied: {escape(str(report.example.get('clip')))} "
            f"(valence {report.example.get('valence')}, arousal {report.example.get('arousal')}).</p>"
        )
    for engine in report.metrics:
        body.append(f"<h2>{escape(engine)}</h2><div class='grid'>")
        body += [_card(c, root) for c in report.clips if c.engine == engine]
        body.append("</div>")
    body.append("</body></html>")
    out = Path(path)
    with atomic_path(out) as tmp:
        Path(tmp).write_text("\n".join(body))
    return out
