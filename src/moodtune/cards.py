"""Model cards of the shipped models: ``card.json`` beside each one's weights, rendered into docs/models.md."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from moodtune.fsutil import atomic_path
from moodtune.shipped import INDEX_FILE, MOOD_MODEL

CARD_FILE = "card.json"
#: Columns of the mood-control table: (report key, heading).
CONTROL = (
    ("quadrant_accuracy", "quadrant acc."),
    ("arousal_r", "arousal r"),
    ("valence_r", "valence r"),
    ("diversity_vs_real", "diversity / real"),
    ("fad_mood", "FAD (mood emb.)"),
)


def read_card(folder: str | os.PathLike[str]) -> dict[str, Any]:
    """The card of the model in ``folder`` ({} when it has none)."""
    path = Path(folder) / CARD_FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def _num(x: object) -> str:
    return "–" if x is None else f"{x:.3f}" if isinstance(x, float) else str(x)


def card_markdown(card: dict[str, Any]) -> list[str]:
    """One model's section of docs/models.md."""
    name = card["name"]
    lines = [f"## {name}", "", card["summary"], ""]
    lines += ["**Command**", "", "```bash", card["data"]["command"], card["command"] or "(not recorded)"]
    if card.get("evaluate_command"):
        lines.append(card["evaluate_command"])
    lines += ["```", ""]
    d, m, r = card["data"], card.get("machine") or {}, card.get("results", {})
    minutes = r.get("train_minutes", r.get("minutes"))
    lines += [
        f"* **Data:** {d['dataset']} corpus, {d['clips']} {'MIDI renderings' if d.get('midi_only') else 'clips'} "
        f"from {d['tracks']} pieces, "
        f"fingerprint `{d['fingerprint']}`.",
        f"* **Training:** {_num(minutes)} min, {_num(r.get('epochs'))} epochs, {_num(r.get('steps'))} steps, "
        f"{_num(r.get('params'))} parameters, on {m.get('cpu', '?')} ({m.get('cores', '?')} cores"
        f"{', ' + m['gpu'] if m.get('gpu') else ', no GPU'}), torch {m.get('torch', '?')}, {card.get('trained')}, "
        f"commit `{card.get('commit')}`.",
        f"* **Weights:** {card['weights_mb']} MB in float16"
        + (
            f"; the {', '.join(card['weights_from'].values())} model's weights are shared, not copied"
            if card.get("weights_from")
            else ""
        )
        + (
            f"; float16 changes the mood model's reading by at most {card['float16']['max_mood_reading_change']}"
            if card.get("float16")
            else ""
        )
        + ".",
        f"* **Why these weights:** {card['reason']}.",
        f"* **Configuration:** `{json.dumps({k: v for k, v in card['config'].items() if v is not None})}`",
        "",
    ]
    metrics = card.get("metrics", {})
    if name == MOOD_MODEL:
        lines += ["| test metric | value |", "|---|---|"]
        lines += [f"| {k.removeprefix('test_')} | {_num(v)} |" for k, v in metrics.items()]
    else:
        lines += ["| | " + " | ".join(h for _, h in CONTROL) + " |", "|---" * (len(CONTROL) + 1) + "|"]
        trivial = f"trivial: {(metrics.get('trivial') or {}).get('name', 'baseline')}"
        for label, key in (("this model", "generated"), ("real held-out clips", "real"), (trivial, "trivial")):
            row = metrics.get(key) or {}
            lines.append(f"| {label} | " + " | ".join(_num(row.get(k)) for k, _ in CONTROL) + " |")
        extra = []
        if metrics.get("trajectory"):
            t = metrics["trajectory"]
            extra.append(
                f"trajectory `{t['trajectory']}` ({t['seeds']} seeds): r valence {_num(t['valence_r'])}, "
                f"arousal {_num(t['arousal_r'])}"
            )
        if metrics.get("heldout_lsd_db") is not None:
            extra.append(f"held-out reconstruction LSD {metrics['heldout_lsd_db']} dB")
        plain = metrics.get("plain_features") or {}
        if plain:
            extra.append(
                "higher for happy/angry than sad/calm: onset rate "
                f"{'yes' if plain.get('onset_rate_follows_arousal') else 'no'}, "
                f"RMS {'yes' if plain.get('rms_follows_arousal') else 'no'}"
            )
        if metrics.get("warnings"):
            extra.append("warnings: " + "; ".join(metrics["warnings"]))
        if extra:
            lines += ["", *(f"* {e}" for e in extra)]
    lines += ["", f"**Limits.** {card['limits']}", ""]
    return lines


def write_models_doc(shipped: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Render every shipped model's card into ``out`` (docs/models.md)."""
    folder = Path(shipped)
    index = json.loads((folder / INDEX_FILE).read_text())
    lines = [
        "# Shipped models",
        "",
        "The models inside the package (`src/moodtune/pretrained/`), trained by `make models` "
        "(`scripts/make_models.py`) on the built-in corpus. `moodtune models` lists them; "
        "`moodtune generate --engine NAME` or `moodtune.load(NAME)` uses one. The mood-control numbers are "
        "`moodtune evaluate --n 64` (samples of 8 s asked for happy, angry, sad and calm in turn), read by the "
        "mood model `make models` trains (the shipped mood model is its float16 copy), beside real held-out "
        "clips and a trivial baseline.",
        "",
        f"**Default engine: {index['default']}**, the best measured quadrant accuracy.",
        "",
        "This file is written by `make models`; do not edit it by hand.",
        "",
    ]
    for name in index["models"]:
        lines += card_markdown(read_card(folder / name))
    path = Path(out)
    with atomic_path(path) as tmp:
        Path(tmp).write_text("\n".join(lines).rstrip() + "\n")
    return path
