"""``moodtune demo``: every shipped engine, heard and measured, on one page.

With the shipped models (no training, no corpus) it writes into ``OUT``:

* every engine x happy / sad / angry / calm (audio engines: WAV + spectrogram; symbolic: MIDI, rendered WAV,
  MusicXML, engraved SVG score and piano roll);
* a 30 s ``sad:0,happy:30`` piece from every engine, its mood measured second by second;
* a continuation (sequence engine) and a variation (waveform engine) of a held-out clip shipped with the models;
* the shipped mood model's reading of every clip, the asked-vs-measured circumplex and the trajectory plot;
* ``index.html``: one static page (relative links only) with a player per clip, the pictures and the numbers.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from moodtune.api import continue_file, generate_to_file, load, load_mood_model, vary_file
from moodtune.audio.io import load_audio
from moodtune.engines.base import Engine, Request
from moodtune.engines.symbolic import SymbolicOptions
from moodtune.errors import MoodtuneError
from moodtune.mood import QUADRANT_MOODS, Mood, Trajectory, quadrant_name
from moodtune.shipped import MOOD_MODEL, SHIPPED_DIR, shipped_index
from moodtune.viz.page import write_showcase_page
from moodtune.viz.plots import plot_mood_map, plot_trajectories

TRAJECTORY = "sad:0,happy:30"


@dataclass
class Clip:
    """One generated file: what was asked, what the mood model measured, and the files written."""

    engine: str
    label: str
    files: dict[str, Any]
    asked: tuple[float, float] | None
    measured: tuple[float, float]
    seconds_taken: float

    @property
    def heard(self) -> str:
        """The named mood nearest to the measured point."""
        return Mood(*self.measured).nearest_name()

    @property
    def in_asked_quadrant(self) -> bool | None:
        """Whether the measured point lies in the asked mood's quadrant (None when no single mood was asked)."""
        return None if self.asked is None else quadrant_name(*self.measured) == quadrant_name(*self.asked)


@dataclass
class ShowcaseReport:
    """Everything the demo made, for the page and the printed table."""

    out: Path
    default_engine: str
    clips: list[Clip] = field(default_factory=list)
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    asked_curve: tuple[np.ndarray, np.ndarray] | None = None
    plots: dict[str, Path] = field(default_factory=dict)
    metrics: dict[str, dict[str, Any]] = field(default_factory=dict)
    example: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    def in_quadrant(self, engine: str) -> tuple[int, int]:
        """``(clips heard in the asked quadrant, mood clips)`` of one engine."""
        clips = [c for c in self.clips if c.engine == engine and c.label in QUADRANT_MOODS]
        return sum(bool(c.in_asked_quadrant) for c in clips), len(clips)

    def trajectory_r(self, engine: str) -> tuple[float, float] | None:
        """Pearson r of the measured valence and arousal with the asked curve over the 30 s piece."""
        if engine not in self.curves or self.asked_curve is None:
            return None
        times, measured = self.curves[engine]
        asked = Trajectory.parse(TRAJECTORY).at(times)
        return tuple(float(np.corrcoef(asked[:, i], measured[:, i])[0, 1]) for i in range(2))  # type: ignore[return-value]


def _measure(mood_model: Any, wav: str) -> tuple[float, float]:
    audio, sr = load_audio(wav, sr=mood_model.sr)
    v, a = (float(x) for x in mood_model.predict(audio, sr))
    return v, a


def _generate(engine: Engine, request: Request, out: Path) -> dict[str, Any]:
    if engine.name == "symbolic":
        request = dataclasses.replace(request, options=SymbolicOptions(top_p=0.95))
        return generate_to_file(engine, request, out.with_suffix(".mid"))
    return generate_to_file(engine, request, out, plot=True)


def run_showcase(
    out: Path, seconds: float = 10.0, say: Callable[[str], None] = print, models: Path = SHIPPED_DIR
) -> ShowcaseReport:
    """Generate, measure and lay out every shipped engine's music into ``out``; returns what it made."""
    started = time.time()
    index = shipped_index(models)
    engines = [n for n in index["models"] if n != MOOD_MODEL]
    if not engines or MOOD_MODEL not in index["models"]:
        raise MoodtuneError(
            f"no shipped models in {models}: run 'make models' in a source checkout, or 'moodtune demo --train'"
        )
    report = ShowcaseReport(out, str(index.get("default")), example=dict(index.get("example") or {}))
    report.metrics = {n: index["models"][n].get("metrics") or {} for n in engines}
    mood_model = load_mood_model(models / MOOD_MODEL)
    trajectory = Trajectory.parse(TRAJECTORY)
    example = models / report.example["file"] if report.example else None
    for i, name in enumerate(engines, start=1):
        say(f"[{i}/{len(engines)}] {name}: {index['models'][name].get('summary', '')}")
        engine = load(models / name)
        folder = out / name
        for mood in QUADRANT_MOODS:
            t = time.time()
            files = _generate(engine, Request(mood=Mood.named(mood), seconds=seconds, seed=0), folder / f"{mood}.wav")
            asked = Mood.named(mood)
            report.clips.append(
                Clip(
                    name,
                    mood,
                    files,
                    (asked.valence, asked.arousal),
                    _measure(mood_model, files["wav"]),
                    time.time() - t,
                )
            )
        t = time.time()
        files = _generate(engine, Request(trajectory=trajectory, seconds=30.0, seed=0), folder / "sad_to_happy.wav")
        audio, sr = load_audio(files["wav"], sr=mood_model.sr)
        report.curves[name] = mood_model.curve(audio, sr)
        report.clips.append(Clip(name, TRAJECTORY, files, None, _measure(mood_model, files["wav"]), time.time() - t))
        if example is not None and name == "sequence":
            t = time.time()
            files = continue_file(
                engine, example, Request(mood=Mood.named("happy"), seconds=30.0), folder / "continuation.wav"
            )
            report.clips.append(
                Clip(name, "continuation (happy)", files, None, _measure(mood_model, files["wav"]), time.time() - t)
            )
        if example is not None and name == "waveform":
            t = time.time()
            files = vary_file(engine, example, folder / "vary.wav", amount=0.5)
            report.clips.append(
                Clip(name, "vary (amount 0.5)", files, None, _measure(mood_model, files["wav"]), time.time() - t)
            )
    times = np.linspace(0.0, 30.0, 61)
    report.asked_curve = (times, trajectory.at(times))
    say("plots and page")
    points = {}
    for name in engines:
        clips = [c for c in report.clips if c.engine == name and c.asked is not None]
        points[name] = (np.array([c.asked for c in clips]), np.array([c.measured for c in clips]))
    report.plots["circumplex"] = plot_mood_map(points, out / "asked_vs_measured.png", "asked (x) vs measured")
    report.plots["trajectory"] = plot_trajectories(
        report.asked_curve, report.curves, out / "trajectory.png", f"'{TRAJECTORY}'"
    )
    report.seconds = time.time() - started
    report.plots["page"] = write_showcase_page(report, out / "index.html")
    return report
