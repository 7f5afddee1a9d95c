"""How the symbolic engine's output changes with the asked mood: loudness, density and mode.

``python -m moodtune.evaluation.symbolic_mood RUN [--seeds 4] [--seconds 10]`` prints a table.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass

import numpy as np

from moodtune.engines.base import Request, load_engine
from moodtune.engines.symbolic import SymbolicEngine
from moodtune.midi.analysis import estimate_key
from moodtune.midi.tokens import NoteEvent
from moodtune.mood import QUADRANT_MOODS, Mood


@dataclass(frozen=True)
class NoteStatistics:
    """Mean velocity, onsets per second and (major - minor) thirds above the estimated tonic."""

    velocity: float
    onsets_per_second: float
    thirds_major_minus_minor: float


def note_statistics(notes: list[NoteEvent], seconds: float, tonic: int | None = None) -> NoteStatistics:
    """Statistics of one generated piece (notes starting before ``seconds``).

    Thirds are counted above ``tonic`` when it is known (a model trained on pieces moved to C writes in
    C), else above the Krumhansl-Kessler estimate, which can mistake a minor key for its relative major.
    """
    notes = [n for n in notes if n.start < seconds]
    if not notes:
        return NoteStatistics(0.0, 0.0, 0.0)
    if tonic is None:
        tonic, _ = estimate_key([n.pitch for n in notes], [n.duration for n in notes])
    degrees = [(n.pitch - tonic) % 12 for n in notes]
    return NoteStatistics(
        float(np.mean([n.velocity for n in notes])),
        len({round(n.start, 2) for n in notes}) / seconds,
        float(degrees.count(4) - degrees.count(3)),
    )


def mood_statistics(
    engine: SymbolicEngine, moods: tuple[str, ...] = QUADRANT_MOODS, seeds: int = 4, seconds: float = 10.0
) -> dict[str, NoteStatistics]:
    """Mean statistics per named mood over ``seeds`` generations of ``seconds`` each (same seeds for every mood)."""
    out = {}
    for mood in moods:
        stats = [
            note_statistics(
                engine.tokenizer.decode(
                    engine.generate_tokens(Request(mood=Mood.named(mood), seconds=seconds, seed=s))
                ),
                seconds,
                0 if engine.transpose else None,
            )
            for s in range(seeds)
        ]
        out[mood] = NoteStatistics(
            *(float(np.mean([getattr(x, f) for x in stats])) for f in NoteStatistics.__dataclass_fields__)
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("checkpoint")
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    engine = load_engine(args.checkpoint)
    if not isinstance(engine, SymbolicEngine):
        raise SystemExit(f"{args.checkpoint}: not a symbolic checkpoint")
    print("| asked | mean velocity | onsets per second | major - minor thirds |\n|---|---|---|---|")
    for mood, s in mood_statistics(engine, seeds=args.seeds, seconds=args.seconds).items():
        print(f"| {mood} | {s.velocity:.1f} | {s.onsets_per_second:.2f} | {s.thirds_major_minus_minor:+.1f} |")


if __name__ == "__main__":
    main()
