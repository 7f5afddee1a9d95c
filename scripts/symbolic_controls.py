"""Measure how the symbolic engine obeys its controls: requests with random tempo, key, meter, bars, instruments,
loop and mood, and what the written MIDI and audio say.

    python scripts/symbolic_controls.py --n 32 --seed 0 [--checkpoint symbolic] [--out runs/controls.json]

Per request: the MIDI's tempo and time signature, the bar count (audio length), music21's estimated key, each
track's program; for a loop, the last bar's chord (its pitch classes inside the key's dominant seventh), the
first bar's downbeat chord (inside the tonic triad), the sample step at the joint against the piece's own 99th
percentile step (a click), and the level change across the joint (50 ms each side) against the level changes
across the piece's own bar lines.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path

import numpy as np

from moodtune.api import load, make_request, symbolic_options
from moodtune.midi.analysis import parse_key
from moodtune.midi.instruments import INSTRUMENTS, parse_instruments
from moodtune.midi.tokens import midi_notes

KEYS = [f"{t} {m}" for t in ("C", "D", "Eb", "F#", "Ab", "Bb", "G", "E") for m in ("major", "minor")]
MOODS = ("happy", "angry", "sad", "calm")
WINDOW_S = 0.05
FLOOR_DB = 40.0


def level_db(audio: np.ndarray) -> float:
    return float(20 * np.log10(np.sqrt(np.mean(audio**2)) + 1e-9))


def level_change(audio: np.ndarray, at: int, width: int) -> float:
    """dB change of the level across sample ``at`` (``width`` samples each side, circular); levels more than
    :data:`FLOOR_DB` below the whole piece's count as that floor (silence and near-silence are alike to the ear)."""
    idx = np.arange(at - width, at + width) % len(audio)
    floor = level_db(audio) - FLOOR_DB
    return abs(max(level_db(audio[idx[width:]]), floor) - max(level_db(audio[idx[:width]]), floor))


def music21_key(path: Path) -> tuple[int, str]:
    from music21 import converter

    k = converter.parse(str(path)).analyze("key")
    return k.tonic.pitchClass, k.mode


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--checkpoint", default="symbolic")
    ap.add_argument("--out", default="runs/controls.json")
    args = ap.parse_args()
    engine = load(args.checkpoint)
    rng = random.Random(args.seed)
    folder = Path(args.out).with_suffix("")
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for i in range(args.n):
        tempo = float(rng.randint(50, 200))
        key, beats, bars = rng.choice(KEYS), rng.randint(2, 6), rng.randint(4, 16)
        names = rng.sample(sorted(INSTRUMENTS), rng.randint(1, 3))
        loop = rng.random() < 0.5
        mood = rng.choice(MOODS)
        opts = symbolic_options(
            tempo=tempo, key=key, meter=f"{beats}/4", bars=bars, instruments=",".join(names), loop=loop or None
        )
        request = make_request(mood, seed=args.seed * 1000 + i, options=opts)
        result = engine.generate(request)
        pm = result.midi
        assert pm is not None
        path = folder / f"{i:02d}.mid"
        pm.write(str(path))
        sr, audio = result.sr, result.audio
        bar_s = beats * 60.0 / tempo
        asked_programs = parse_instruments(",".join(names))
        row = {
            "mood": mood,
            "tempo": tempo,
            "key": key,
            "meter": beats,
            "bars": bars,
            "loop": loop,
            "instruments": names,
            "tempo_ok": bool(abs(pm.get_tempo_changes()[1][0] - tempo) < 1e-3 and len(pm.get_tempo_changes()[1]) == 1),
            "meter_ok": [(t.numerator, t.denominator) for t in pm.time_signature_changes] == [(beats, 4)],
            "bars_ok": abs(len(audio) - round(bars * bar_s * sr)) <= 1
            and (bars - 1) * bar_s - 1e-6 <= max(n.start for n in midi_notes(pm)) < bars * bar_s,
            "key_ok": music21_key(path) == parse_key(key),
            "programs_ok": all(inst.program == asked_programs[inst.name] for inst in pm.instruments)
            and {inst.name for inst in pm.instruments} <= set(asked_programs),
            "tracks": sorted(inst.name for inst in pm.instruments),
        }
        if loop:
            tonic, mode = parse_key(key)
            notes = midi_notes(pm)
            last = {n.pitch % 12 for n in notes if n.start >= (bars - 1) * bar_s - 1e-6}
            first = {n.pitch % 12 for n in notes if n.start < 1e-6}
            dominant7 = {(tonic + d) % 12 for d in (7, 11, 2, 5)}
            triad = {(tonic + d) % 12 for d in (0, 4 if mode == "major" else 3, 7)}
            steps = np.abs(np.diff(audio))
            width = round(WINDOW_S * sr)
            bar_lines = [round(b * bar_s * sr) for b in range(1, bars)]
            inner = [level_change(audio, at, width) for at in bar_lines]
            row |= {
                "last_bar_dominant": bool(last) and last <= dominant7,
                "first_downbeat_tonic": bool(first) and first <= triad,
                "joint_step": float(abs(audio[0] - audio[-1])),
                "p99_step": float(np.percentile(steps, 99)),
                "joint_level_change_db": level_change(audio, 0, width),
                "bar_line_level_change_db_median": float(np.median(inner)) if inner else 0.0,
                "bar_line_level_change_db_max": float(np.max(inner)) if inner else 0.0,
            }
        rows.append(row)
        print(json.dumps(row), flush=True)
    loops = [r for r in rows if r["loop"]]
    summary = {
        **{k: sum(r[k] for r in rows) for k in ("tempo_ok", "meter_ok", "bars_ok", "key_ok", "programs_ok")},
        "n": len(rows),
        "loops": len(loops),
        **{k: sum(r[k] for r in loops) for k in ("last_bar_dominant", "first_downbeat_tonic")},
        "clicks": sum(r["joint_step"] > r["p99_step"] for r in loops),
        "joint_above_max_bar_line": sum(
            r["joint_level_change_db"] > r["bar_line_level_change_db_max"] for r in loops
        ),
        "joint_level_change_db_median": float(np.median([r["joint_level_change_db"] for r in loops])) if loops else 0,
        "bar_line_level_change_db_median": float(np.median([r["bar_line_level_change_db_median"] for r in loops]))
        if loops
        else 0,
    }
    Path(args.out).write_text(json.dumps({"summary": summary, "rows": rows}, indent=1))
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
