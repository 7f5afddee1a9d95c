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

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from moodtune.api import continue_file, generate_to_file, load, load_mood_model, vary_file
from moodtune.audio.io import load_audio
from moodtune.engines.base import Engine, Request
from moodtune.errors import MoodtuneError
from moodtune.evaluation.mood_model import MoodModel
from moodtune.mood import QUADRANT_MOODS, Mood, Trajectory, quadrant_name
from moodtune.shipped import MOOD_MODEL, SHIPPED_DIR, shipped_engines, shipped_index
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


def _timed_clip(
    mood_model: MoodModel,
    engine: str,
    label: str,
    asked: tuple[float, float] | None,
    make: Callable[[], dict[str, Any]],
) -> tuple[Clip, np.ndarray]:
    """Run ``make`` (which writes the files and returns them), read its WAV once and measure it; returns the clip
    and the audio ``[T]`` at the mood model's rate."""
    started = time.time()
    files = make()
    audio, sr = load_audio(files["wav"], sr=mood_model.sr)
    v, a = (float(x) for x in mood_model.predict(audio, sr))
    return Clip(engine, label, files, asked, (v, a), time.time() - started), audio


def _generate(engine: Engine, request: Request, out: Path) -> dict[str, Any]:
    if engine.name == "symbolic":
        return generate_to_file(engine, request, out.with_suffix(".mid"))
    return generate_to_file(engine, request, out, plot=True)


def _show_engine(
    report: ShowcaseReport,
    mood_model: MoodModel,
    name: str,
    engine: Engine,
    seconds: float,
    trajectory: Trajectory,
    example: Path | None,
) -> None:
    """One engine's clips into ``report``: the four quadrant moods, the trajectory piece (with its measured
    curve) and, for the sequence and waveform engines, a continuation or a variation of ``example``."""
    folder = report.out / name

    def clip(label: str, asked: tuple[float, float] | None, make: Callable[[], dict[str, Any]]) -> np.ndarray:
        made, audio = _timed_clip(mood_model, name, label, asked, make)
        report.clips.append(made)
        return audio

    for mood in QUADRANT_MOODS:
        request = Request(mood=Mood.named(mood), seconds=seconds, seed=0)
        point = (Mood.named(mood).valence, Mood.named(mood).arousal)
        clip(mood, point, lambda r=request, m=mood: _generate(engine, r, folder / f"{m}.wav"))
    piece = Request(trajectory=trajectory, seconds=30.0, seed=0)
    audio = clip(TRAJECTORY, None, lambda: _generate(engine, piece, folder / "sad_to_happy.wav"))
    report.curves[name] = mood_model.curve(audio, mood_model.sr)
    if example is not None and name == "sequence":
        happy = Request(mood=Mood.named("happy"), seconds=30.0)
        clip("continuation (happy)", None, lambda: continue_file(engine, example, happy, folder / "continuation.wav"))
    if example is not None and name == "waveform":
        clip("vary (amount 0.5)", None, lambda: vary_file(engine, example, folder / "vary.wav", amount=0.5))


def run_showcase(
    out: Path, seconds: float = 10.0, say: Callable[[str], None] = print, models: Path = SHIPPED_DIR
) -> ShowcaseReport:
    """Generate, measure and lay out every shipped engine's music into ``out``; returns what it made."""
    started = time.time()
    index = shipped_index(models)
    engines = shipped_engines(models)
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
        _show_engine(report, mood_model, name, load(models / name), seconds, trajectory, example)
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
