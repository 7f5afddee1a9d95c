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

from collections.abc import Callable
from pathlib import Path
from typing import Any

from moodtune.api import generate_to_file, write_mood_samples
from moodtune.data.prepare import prepare
from moodtune.engines.base import Request, load_engine
from moodtune.engines.checkpoint import CONFIG_FILE, WEIGHTS_FILE, read_checkpoint_config
from moodtune.engines.spectrogram import SpectrogramEngine
from moodtune.engines.symbolic import SymbolicEngine
from moodtune.mood import Mood
from moodtune.training.latent import LatentTrainConfig, train_latent
from moodtune.training.sequence import SequenceTrainConfig, train_sequence
from moodtune.training.spectrogram import SpectrogramTrainConfig, train_spectrogram
from moodtune.training.symbolic import SymbolicTrainConfig, train_symbolic
from moodtune.training.waveform import WaveformTrainConfig, train_waveform

DEMO_MOODS = ("happy", "sad", "angry", "calm")

#: The demo's waveform configuration (the seed's is 3000 Hz, 30 s, latent 2; README compares the two).
DEMO_WAVEFORM = {"sr": 16000, "seconds": 4.0, "latent_dim": 64}


def run_demo(
    out: Path,
    limit: int | None = None,
    workers: int | None = None,
    minutes: float = 3.0,
    seconds: float = 20.0,
    symbolic_minutes: float = 2.0,
    sequence_minutes: float = 1.5,
    waveform_minutes: float = 2.0,
    latent_minutes: float = 1.5,
    progress: bool = True,
    say: Callable[[str], None] = print,
    warn: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run the demo into ``out``; returns what it made."""
    say("[1/7] built-in mood corpus")
    prepared = prepare("builtin", None, out / "data", limit=limit, workers=workers, progress=progress, warn=warn)
    report: dict[str, Any] = {"data": prepared}
    run = out / "spectrogram"
    say("[2/7] spectrogram engine")
    report["spectrogram"] = _trained(
        run,
        lambda: train_spectrogram(
            SpectrogramTrainConfig(data=str(out / "data"), out=str(run), epochs=200, max_minutes=minutes, size="small"),
            progress=progress,
        ),
        say,
        minutes,
    )
    engine = SpectrogramEngine.from_checkpoint(run)
    report["spectrogram_samples"] = {
        name: generate_to_file(
            engine, Request(mood=Mood.named(name), seconds=seconds, seed=0), run / "samples" / f"{name}.wav", plot=True
        )
        for name in DEMO_MOODS
    }
    sym = out / "symbolic"
    say("[3/7] symbolic engine")
    report["symbolic"] = _trained(
        sym,
        lambda: train_symbolic(
            SymbolicTrainConfig(
                data=str(out / "data"), out=str(sym), epochs=200, max_minutes=symbolic_minutes, size="small"
            ),
            progress=progress,
        ),
        say,
        symbolic_minutes,
    )
    sym_engine = SymbolicEngine.from_checkpoint(sym)
    report["symbolic_samples"] = {
        name: generate_to_file(
            sym_engine,
            Request(mood=Mood.named(name), seconds=seconds, seed=0, top_p=0.95),
            sym / "samples" / f"{name}.mid",
        )
        for name in DEMO_MOODS
    }
    say("[4/7] sequence engine: latent LSTM + GAN over the spectrogram model")
    seq = out / "sequence"
    report["sequence"] = _trained(
        seq,
        lambda: train_sequence(
            SequenceTrainConfig(
                data=str(out / "data"), vae=str(run), out=str(seq), epochs=100, max_minutes=sequence_minutes
            ),
            progress=progress,
        ),
        say,
        sequence_minutes,
    )
    report["sequence_samples"] = _sequence_samples(out, seq)
    say("[5/7] waveform engine: 1-D ResNet VAE on raw audio")
    wave = out / "waveform"
    report["waveform"] = _trained(
        wave,
        lambda: train_waveform(
            WaveformTrainConfig(
                data=str(out / "data"),
                out=str(wave),
                epochs=200,
                max_minutes=waveform_minutes,
                limit_train_batches=10,  # short epochs, so the per-epoch waveform grids show progress
                limit_val_batches=4,
                **DEMO_WAVEFORM,
            ),
            progress=progress,
        ),
        say,
        waveform_minutes,
    )
    report["waveform_samples"] = _mood_files(wave, seconds)
    say("[6/7] latent engine: emotional VAE over codec latents (the spectrogram model as codec)")
    lat = out / "latent"
    report["latent"] = _trained(
        lat,
        lambda: train_latent(
            LatentTrainConfig(
                data=str(out / "data"),
                out=str(lat),
                codec={"kind": "spectrogram", "path": str(run)},
                epochs=300,
                max_minutes=latent_minutes,
            ),
            progress=progress,
        ),
        say,
        latent_minutes,
    )
    report["latent_samples"] = _mood_files(lat, seconds)
    say("[7/7] mood model: measured valence/arousal of the generated audio")
    report["measured"] = _measure_samples(out, report, progress, say)
    return report


def _mood_files(run: Path, seconds: float) -> dict[str, dict[str, Any]]:
    """One WAV per demo mood in ``run/samples`` and their waveforms side by side in ``run/samples/moods.png``."""
    written = write_mood_samples(load_engine(run), run / "samples", seconds, DEMO_MOODS)
    png = written.pop("png")
    return {name: {**files, "png": png} for name, files in written.items()}


def _sequence_samples(out: Path, seq: Path) -> dict[str, dict[str, Any]]:
    """A 30 s sad -> happy piece and a 30 s continuation of the first test clip."""
    from moodtune.api import continue_file
    from moodtune.data.manifest import read_manifest
    from moodtune.engines.sequence import SequenceEngine
    from moodtune.mood import Trajectory

    engine = SequenceEngine.from_checkpoint(seq)
    trajectory = Request(trajectory=Trajectory.parse("sad:0,happy:30"), seconds=30.0, seed=0)
    samples = {"sad -> happy": generate_to_file(engine, trajectory, seq / "samples" / "sad_to_happy.wav", plot=True)}
    manifest = read_manifest(out / "data")
    clip = manifest[manifest["split"] == "test"].iloc[0]
    samples["continuation"] = continue_file(
        engine,
        clip["path"],
        Request(mood=Mood.named("happy"), seconds=30.0, seed=0),
        seq / "samples" / "continuation.wav",
    )
    samples["continuation"]["of"] = str(clip["path"])
    from moodtune.training.sequence import write_continuation_plot

    png = write_continuation_plot(engine, clip.to_dict(), seq / "samples" / "continuation_vs_original.png")
    samples["continuation"]["prediction_png"] = str(png)
    return samples


def _measure_samples(
    out: Path, report: dict[str, Any], progress: bool, say: Callable[[str], None]
) -> dict[str, dict[str, Any]]:
    """``engine -> mood -> {valence, arousal, mood}`` measured by the mood model (trained on first use)."""
    from moodtune.audio.io import load_audio
    from moodtune.evaluation.report import mood_model_for

    model = mood_model_for(str(out / "data"), None, progress, say)
    report["mood_model"] = model.results
    measured: dict[str, dict[str, Any]] = {}
    for engine in ("spectrogram", "symbolic", "sequence", "waveform", "latent"):
        for name, files in report[f"{engine}_samples"].items():
            audio, sr = load_audio(files["wav"], sr=model.sr)
            v, a = (float(x) for x in model.predict(audio, sr))
            measured.setdefault(engine, {})[name] = {"valence": v, "arousal": a, "mood": Mood(v, a).nearest_name()}
    return measured


def _trained(
    run: Path, train: Callable[[], dict[str, Any]], say: Callable[[str], None], minutes: float
) -> dict[str, Any]:
    """Results of the model in ``run``: trained now, or read back from an earlier demo."""
    if (run / WEIGHTS_FILE).is_file() and (run / CONFIG_FILE).is_file():
        say(f"reusing the model trained before in {run}")
        return read_checkpoint_config(run).get("results", {})
    if run.exists():
        import shutil

        shutil.rmtree(run)  # an interrupted demo run: start it again
    say(f"training a small model for up to {minutes:g} minutes")
    return train()
