"""``moodtune demo``: the main job on the built-in corpus, end to end.

1. build the built-in mood corpus (or reuse it);
2. train a small spectrogram model for a few minutes (or load the one trained before) and write one
   WAV + spectrogram PNG per named quadrant mood;
3. train a small symbolic model (or load it) and write one MIDI + WAV + MusicXML + SVG score +
   piano roll per mood;
4. train the sequence engine over the spectrogram model's latents (or load it) and write a 30 s
   sad -> happy piece and a 30 s continuation of a held-out builtin clip;
5. train the waveform engine (raw-audio VAE) and write one WAV per mood plus their waveforms side by side;
6. train the latent engine over the spectrogram model used as a codec and write one WAV per mood;
7. train the independent mood model (or load it) and measure the mood of every generated WAV.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from moodtune.api import continue_file, generate_to_file, write_mood_samples
from moodtune.audio.io import load_audio
from moodtune.data.manifest import read_manifest
from moodtune.data.prepare import PrepareResult, prepare
from moodtune.engines.base import Request, load_engine
from moodtune.engines.checkpoint import CONFIG_FILE, WEIGHTS_FILE, read_checkpoint_config
from moodtune.evaluation.report import mood_model_for
from moodtune.mood import QUADRANT_MOODS, Mood, Trajectory
from moodtune.registry import FAMILIES, family, resolve
from moodtune.training.recipe import train
from moodtune.training.sequence import write_continuation_plot

#: The demo's deliberate departures from each family's defaults, in one place: a time budget (minutes) with
#: room for many epochs, and for the waveform engine a short validation so the per-epoch grids cost little.
DEMO_OVERRIDES: dict[str, dict[str, Any]] = {
    "spectrogram": {"epochs": 200, "max_minutes": 2.0, "adversarial_minutes": 1.0},
    "symbolic": {"epochs": 200, "max_minutes": 2.0},
    "sequence": {"epochs": 100, "max_minutes": 1.5},
    "waveform": {"epochs": 200, "max_minutes": 3.0, "limit_val_batches": 4},
    "latent": {"epochs": 300, "max_minutes": 1.5},
}

#: Families trained on another family's run, and which option names it.
DEPENDS_ON = {"sequence": ("vae", "spectrogram"), "latent": ("vae", "spectrogram")}


@dataclass
class DemoReport:
    """What the demo made: the corpus, each family's training results and files, the measured moods."""

    out: Path
    data: PrepareResult
    results: dict[str, dict[str, Any]] = field(default_factory=dict)
    samples: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    measured: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    mood_model: dict[str, Any] = field(default_factory=dict)

    def lines(self) -> list[str]:
        """The printed summary: the corpus, one line per model, one per generated file with its measured mood."""
        s = self.data.summary
        out = [
            f"corpus: {s['clips']} clips from {s['tracks']} tracks ({s['hours'] * 60:.1f} min) in {self.out / 'data'}",
            f"mood model (the judge): test R² valence {self.mood_model.get('test_valence_r2')}, "
            f"arousal {self.mood_model.get('test_arousal_r2')}",
        ]
        for name, r in self.results.items():
            out.append(
                f"{name}: {r.get('params', 0):,} parameters, {r.get('train_minutes')} min, {r.get('epochs')} epochs"
            )
            for sample, files in self.samples.get(name, {}).items():
                m = self.measured.get(name, {}).get(sample)
                heard = f"  measured {m['valence']:+.2f}, {m['arousal']:+.2f} -> {m['mood']}" if m else ""
                out.append(f"  {sample:<14} {files.get('midi') or files['wav']}{heard}")
        out.append(f"all files: {self.out}/<engine>/samples, plots: {self.out}/<engine>/plots")
        return out


def run_demo(
    out: Path,
    limit: int | None = None,
    workers: int | None = None,
    seconds: float = 20.0,
    minutes: dict[str, float] | None = None,
    progress: bool = True,
    verbose: bool = False,
    say: Callable[[str], None] = print,
    warn: Callable[[str], None] | None = None,
) -> DemoReport:
    """Run the demo into ``out`` (``minutes`` replaces a family's training budget); returns what it made."""
    steps = len(FAMILIES) + 2
    say(f"[1/{steps}] built-in mood corpus")
    report = DemoReport(
        out, prepare("builtin", None, out / "data", limit=limit, workers=workers, progress=progress, warn=warn)
    )
    for i, name in enumerate(FAMILIES, start=2):
        say(f"[{i}/{steps}] {name} engine: {family(name).summary}")
        overrides = {
            **DEMO_OVERRIDES.get(name, {}),
            **({"max_minutes": minutes[name]} if minutes and name in minutes else {}),
        }
        if name in DEPENDS_ON:
            option, base = DEPENDS_ON[name]
            overrides[option] = str(out / base)
        run = out / name
        report.results[name] = _trained(run, name, overrides, progress, verbose, say)
        report.samples[name] = _samples(name, run, out, seconds)
    say(f"[{steps}/{steps}] mood model: measured valence/arousal of the generated audio")
    _measure(report, progress, say)
    return report


def _samples(name: str, run: Path, out: Path, seconds: float) -> dict[str, dict[str, Any]]:
    """One file per quadrant mood (symbolic: MIDI + score; others: WAV with a picture) and, for the sequence
    engine, a 30 s sad -> happy piece and a continuation of a held-out clip."""
    engine = load_engine(run)
    folder = run / "samples"
    if name == "symbolic":
        return {
            m: generate_to_file(engine, Request(mood=Mood.named(m), seconds=seconds), folder / f"{m}.mid")
            for m in QUADRANT_MOODS
        }
    if name == "sequence":
        return _sequence_samples(engine, out, folder)
    written = write_mood_samples(engine, folder, seconds)
    png = written.pop("png")
    return {m: {**files, "png": png} for m, files in written.items()}


def _sequence_samples(engine: Any, out: Path, folder: Path) -> dict[str, dict[str, Any]]:
    """A 30 s sad -> happy piece and a 30 s continuation of the first test clip, with its prediction plot."""
    trajectory = Request(trajectory=Trajectory.parse("sad:0,happy:30"), seconds=30.0, seed=0)
    samples = {"sad -> happy": generate_to_file(engine, trajectory, folder / "sad_to_happy.wav", plot=True)}
    manifest = read_manifest(out / "data")
    clip = manifest[manifest["split"] == "test"].iloc[0]
    happy = Request(mood=Mood.named("happy"), seconds=30.0, seed=0)
    samples["continuation"] = continue_file(engine, clip["path"], happy, folder / "continuation.wav")
    samples["continuation"]["of"] = str(clip["path"])
    png = write_continuation_plot(engine, clip.to_dict(), folder / "continuation_vs_original.png")
    samples["continuation"]["prediction_png"] = str(png)
    return samples


def _measure(report: DemoReport, progress: bool, say: Callable[[str], None]) -> None:
    """Fill ``report.measured`` (``engine -> sample -> {valence, arousal, mood}``) with the mood model's reading
    of every generated WAV (the model is trained on the corpus on first use)."""
    model = mood_model_for(str(report.out / "data"), None, progress, say)
    report.mood_model = model.results
    for engine, samples in report.samples.items():
        for name, files in samples.items():
            audio, sr = load_audio(files["wav"], sr=model.sr)
            v, a = (float(x) for x in model.predict(audio, sr))
            report.measured.setdefault(engine, {})[name] = {
                "valence": v,
                "arousal": a,
                "mood": Mood(v, a).nearest_name(),
            }


def _trained(
    run: Path, name: str, overrides: dict[str, Any], progress: bool, verbose: bool, say: Callable[[str], None]
) -> dict[str, Any]:
    """Results of the ``name`` model in ``run``: trained now with the demo's overrides, or read back from an
    earlier demo."""
    if (run / WEIGHTS_FILE).is_file() and (run / CONFIG_FILE).is_file():
        say(f"reusing the model trained before in {run}")
        return read_checkpoint_config(run).get("results", {})
    if run.exists():
        shutil.rmtree(run)  # an interrupted demo run: start it again
    cfg = resolve(family(name).config)(data=str(run.parent / "data"), out=str(run), **overrides)
    say(f"training for up to {cfg.max_minutes:g} minutes")
    result = train(cfg, progress=progress, verbose=verbose)  # one process: always the one that writes
    return result.flat() if result is not None else {}
