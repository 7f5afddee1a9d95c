"""``moodtune demo``: the main job on the built-in corpus, end to end.

1. build the built-in mood corpus (or reuse it);
2. train a small spectrogram model for a few minutes (or load the one trained before);
3. write one WAV + spectrogram PNG per named quadrant mood.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from moodtune.api import generate_to_file
from moodtune.data.prepare import prepare
from moodtune.engines.base import Request
from moodtune.engines.checkpoint import CONFIG_FILE, WEIGHTS_FILE, read_checkpoint_config
from moodtune.engines.spectrogram import SpectrogramEngine
from moodtune.mood import Mood
from moodtune.training.spectrogram import SpectrogramTrainConfig, train_spectrogram

DEMO_MOODS = ("happy", "sad", "angry", "calm")


def run_demo(
    out: Path,
    limit: int | None = None,
    workers: int | None = None,
    minutes: float = 3.0,
    seconds: float = 20.0,
    progress: bool = True,
    say: Callable[[str], None] = print,
    warn: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the demo into ``out``; returns what it made."""
    say("[1/3] built-in mood corpus")
    prepared = prepare("builtin", None, out / "data", limit=limit, workers=workers, progress=progress, warn=warn)
    report: dict[str, Any] = {"data": prepared}
    run = out / "spectrogram"
    if (run / WEIGHTS_FILE).is_file() and (run / CONFIG_FILE).is_file():
        say(f"[2/3] spectrogram engine: reusing the model trained before in {run}")
        results = read_checkpoint_config(run).get("results", {})
    else:
        say(f"[2/3] spectrogram engine: training a small model for up to {minutes:g} minutes")
        if run.exists() and (run / "checkpoints" / "last.ckpt").is_file():
            import shutil

            shutil.rmtree(run)  # an interrupted demo run: start it again
        cfg = SpectrogramTrainConfig(
            data=str(out / "data"), out=str(run), epochs=200, max_minutes=minutes, size="small"
        )
        results = train_spectrogram(cfg, progress=progress)
    report["spectrogram"] = results
    say("[3/3] generating one clip per mood")
    engine = SpectrogramEngine.from_checkpoint(run)
    samples = {}
    for name in DEMO_MOODS:
        request = Request(mood=Mood.named(name), seconds=seconds, seed=0)
        samples[name] = generate_to_file(engine, request, run / "samples" / f"{name}.wav", plot=True)
    report["samples"] = samples
    return report
