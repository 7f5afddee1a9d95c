"""The Python API the CLI, and the demo call: load an engine, generate, write files."""

from __future__ import annotations

import errno
import os
from pathlib import Path
from typing import Any

import numpy as np

from moodtune.audio.distances import ReconstructionScorer
from moodtune.audio.features import LogMel, MelConfig
from moodtune.audio.io import load_audio, write_wav
from moodtune.data.adapters.base import numeric_columns
from moodtune.engines.base import (
    DEFAULT_SECONDS,
    Continues,
    Engine,
    EngineOptions,
    Reconstructs,
    Request,
    Result,
    Varies,
    load_engine,
    mood_clips,
)
from moodtune.engines.symbolic import SymbolicOptions
from moodtune.errors import AudioReadError, MoodtuneError
from moodtune.evaluation.mood_model import MoodModel
from moodtune.fsutil import atomic_files, write_text_atomic
from moodtune.midi.engrave import engrave_pages, midi_to_musicxml, svg_page_path
from moodtune.mood import QUADRANT_MOODS, Mood, Trajectory
from moodtune.shipped import MOOD_MODEL, default_engine, shipped_engines, shipped_path
from moodtune.viz.plots import plot_piano_roll, plot_reconstruction, plot_spectrogram, plot_waveforms


def symbolic_options(
    notes: int | None = None,
    top_k: int | None = None,
    top_p: float | None = None,
    primer: str | None = None,
    guidance: float | None = None,
    tempo: float | None = None,
    key: str | None = None,
    meter: str | None = None,
    bars: int | None = None,
    repeat: float | None = None,
    plan: bool | None = None,
    instruments: str | None = None,
    loop: bool | None = None,
    soundfont: str | None = None,
) -> SymbolicOptions | None:
    """The symbolic engine's options, or None when none is set: sampling (``notes``, ``top_k``, ``top_p``,
    ``primer``, ``guidance``) and the piece's controls (``tempo`` in BPM, ``key`` such as ``"D major"``, ``meter``
    such as ``"3/4"``, ``bars``, ``instruments`` such as ``"piano,strings,bass"``, ``loop``), the plan (``plan``:
    False writes without one; ``repeat``: the chance a phrase restates an earlier one) and the ``soundfont``."""
    given = {
        "notes": notes,
        "top_k": top_k,
        "top_p": top_p,
        "primer": primer,
        "guidance": guidance,
        "tempo": tempo,
        "key": key,
        "meter": meter,
        "bars": bars,
        "repeat": repeat,
        "plan": plan,
        "instruments": instruments,
        "loop": loop,
        "soundfont": soundfont,
    }
    given = {k: v for k, v in given.items() if v is not None}
    return SymbolicOptions(**given) if given else None


def make_request(
    mood: str | None = None,
    valence: float | None = None,
    arousal: float | None = None,
    trajectory: str | None = None,
    trajectory_file: str | None = None,
    options: EngineOptions | None = None,
    **fields: Any,
) -> Request:
    """Build a Request from CLI-style arguments; exactly one way of giving the mood. ``fields`` are
    Request fields (seconds, style, seed, temperature). A trajectory that ends after the default length sets the
    length when ``seconds`` is not given (or None), and is refused when it ends after the ``seconds`` given."""
    if fields.get("seconds", 0) is None:
        del fields["seconds"]
    given = [
        mood is not None,
        valence is not None or arousal is not None,
        trajectory is not None,
        trajectory_file is not None,
    ]
    if sum(given) != 1:
        raise MoodtuneError("give exactly one of --mood, --valence/--arousal, --trajectory or --trajectory-file")
    if valence is not None or arousal is not None:
        if valence is None or arousal is None:
            raise MoodtuneError("--valence and --arousal go together")
        return Request(mood=Mood(valence, arousal), options=options, **fields)
    if mood is not None:
        return Request(mood=Mood.parse(mood), options=options, **fields)
    curve = Trajectory.parse(trajectory) if trajectory is not None else read_trajectory_file(trajectory_file or "")
    seconds = fields.pop("seconds", None)
    if seconds is not None and curve.duration > seconds:
        raise MoodtuneError(
            f"the trajectory ends at {curve.duration:g} s, after the end of the piece ({seconds:g} s): give "
            f"--seconds {curve.duration:g} or more, or leave --seconds out and the trajectory sets the length"
        )
    length = max(DEFAULT_SECONDS, curve.duration) if seconds is None else seconds
    return Request(trajectory=curve, options=options, seconds=length, **fields)


#: The columns of a trajectory CSV.
TRAJECTORY_COLUMNS = ("time", "valence", "arousal")


def read_trajectory_file(path: str | os.PathLike[str]) -> Trajectory:
    """A CSV with columns time, valence, arousal (header required)."""
    import pandas as pd

    p = Path(path)
    expected = "expected a CSV with columns time, valence, arousal"
    if not p.is_file():
        raise MoodtuneError(f"trajectory file not found: {p}")
    try:
        df = pd.read_csv(p, skipinitialspace=True, encoding="utf-8-sig")
    except pd.errors.EmptyDataError as exc:
        raise MoodtuneError(f"{p}: empty file; {expected}") from exc
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise MoodtuneError(f"{p}: not a readable CSV ({type(exc).__name__}); {expected}") from exc
    df.columns = [str(c).strip() for c in df.columns]
    if not set(TRAJECTORY_COLUMNS) <= set(df.columns):
        raise MoodtuneError(f"{p}: {expected} (found {', '.join(df.columns[:6])})")
    if df.empty:
        raise MoodtuneError(f"{p}: no rows; {expected}")
    df = numeric_columns(df, p, TRAJECTORY_COLUMNS, "trajectory")
    empty = df[list(TRAJECTORY_COLUMNS)].isna().any(axis=1).to_numpy()
    if empty.any():
        raise MoodtuneError(f"{p}: line {int(empty.argmax()) + 2}: a time, valence or arousal is missing")
    try:
        return Trajectory.from_points(list(zip(df["time"], df["valence"], df["arousal"], strict=True)))
    except MoodtuneError as exc:
        raise MoodtuneError(f"{p}: {exc}") from exc


def generate_to_file(
    engine: Engine, request: Request, out: str | os.PathLike[str], plot: bool = False
) -> dict[str, Any]:
    """Generate and write the files; returns what was written.

    Audio engines write ``out`` as WAV (and its spectrogram PNG with ``plot``). The symbolic engine
    writes ``out`` as MIDI and, beside it, the rendered WAV, MusicXML, an engraved SVG score and a
    piano-roll PNG.
    """
    out = output_path(out, (".mid", ".midi", ".wav") if engine.writes_midi else (".wav",), engine.name)
    result: Result = engine.generate(request)
    if result.midi is not None:
        return write_symbolic_outputs(result, out, engine.name)
    write_wav(out, result.audio, result.sr)
    written = {"wav": str(out), "seconds": round(len(result.audio) / result.sr, 3)}
    if plot:
        what = request.describe()
        title = f"{engine.name}: {what} ({out.name})"
        png = out.with_suffix(".png")
        if result.mel is not None:
            written["png"] = str(plot_spectrogram(result.mel, png, title, result.sr))
        else:
            written["png"] = str(plot_waveforms([(what, result.audio)], result.sr, png, title))
    return written


def output_path(out: str | os.PathLike[str], suffixes: tuple[str, ...] = (".wav",), writer: str = "") -> Path:
    """``out`` as the path of a file to write, checked before any work is done: not a folder (nor a name ending
    in a slash), and ending in one of ``suffixes`` (the format written: a WAV is never written as ``.mp3``)."""
    text = os.fspath(out)
    path = Path(text)
    if text.endswith(("/", os.sep)) or path.is_dir():
        raise IsADirectoryError(errno.EISDIR, os.strerror(errno.EISDIR), text)
    if path.suffix.lower() not in suffixes:
        what = f"the {writer} engine writes" if writer else "this writes"
        formats = "MIDI, with its WAV and score beside it" if ".mid" in suffixes else "WAV"
        raise MoodtuneError(f"{text}: {what} {formats}; name the file {' or '.join(suffixes)}")
    return path


def write_symbolic_outputs(result: Result, out: Path, engine_name: str) -> dict[str, Any]:
    """MIDI at ``out`` (suffix .mid), then .wav, .musicxml, .svg and .png beside it, written as one unit: all of
    them, or (a full disk, a kill) none under their final names."""
    assert result.midi is not None
    midi = out if out.suffix.lower() in (".mid", ".midi") else out.with_suffix(".mid")
    notes = [(n.start, n.end - n.start, n.pitch, n.velocity) for inst in result.midi.instruments for n in inst.notes]
    wav, xml, png = (midi.with_suffix(s) for s in (".wav", ".musicxml", ".png"))
    svg: list[Path] = []
    with atomic_files() as stage:
        staged_midi, staged_xml = stage(midi), stage(xml)
        result.midi.write(str(staged_midi))
        write_wav(stage(wav), result.audio, result.sr)
        midi_to_musicxml(staged_midi, staged_xml)
        for page, text in enumerate(engrave_pages(staged_xml), start=1):
            svg.append(svg_page_path(midi.with_suffix(".svg"), page))
            write_text_atomic(stage(svg[-1]), text)
        plot_piano_roll(notes, stage(png), f"{engine_name}: {midi.name}")
    return {
        "midi": str(midi),
        "wav": str(wav),
        "musicxml": str(xml),
        "svg": str(svg[0]) if svg else "",
        "png": str(png),
        "notes": len(notes),
        "seconds": round(len(result.audio) / result.sr, 2),
        **{k: result.metadata[k] for k in ("bars", "form", "chords") if k in result.metadata},
        "instruments": ", ".join(f"{track} {name}" for track, name in result.metadata.get("instruments", {}).items()),
        "soundfont": result.metadata.get("soundfont", ""),
    }


#: Input audio shorter than this (seconds) is refused by reconstruct, continue and vary.
MIN_INPUT_SECONDS = 1.0


def read_input(path: str | os.PathLike[str], sr: int) -> tuple[np.ndarray, int]:
    """An input file as mono ``[T]`` at ``sr``; refused (AudioReadError) when unreadable, silent or shorter than
    :data:`MIN_INPUT_SECONDS`."""
    audio, sr = load_audio(path, sr=sr)
    if len(audio) < MIN_INPUT_SECONDS * sr:
        raise AudioReadError(f"{path}: too short to use ({len(audio) / sr:.2f} s; at least {MIN_INPUT_SECONDS:g} s)")
    return audio, sr


def reconstruct_file(engine: Engine, audio_in: str | os.PathLike[str], out: str | os.PathLike[str]) -> dict[str, Any]:
    """Encode -> decode an audio file with any engine that reconstructs; writes OUT.wav and OUT.png (log-mel of
    the original vs the reconstruction) and returns the log-spectral and MR-STFT distances."""
    if not isinstance(engine, Reconstructs):
        raise MoodtuneError(f"the {engine.name} engine cannot reconstruct audio")
    out = output_path(out)
    audio, sr = read_input(audio_in, engine.sr)
    recon = engine.reconstruct_audio(audio)
    write_wav(out, recon, sr)
    logmel = LogMel(MelConfig(sr=sr))
    png = plot_reconstruction(
        logmel(audio).numpy(), logmel(recon).numpy(), out.with_suffix(".png"), f"({Path(audio_in).name})", sr
    )
    scores = ReconstructionScorer(sr)(audio, recon)
    return {"wav": str(out), "png": str(png), **{k: round(v, 3) for k, v in scores.items()}}


def continue_file(
    engine: Engine, audio_in: str | os.PathLike[str], request: Request, out: str | os.PathLike[str]
) -> dict[str, Any]:
    """Continue an audio file with an engine that continues; writes OUT.wav and its spectrogram OUT.png."""
    if not isinstance(engine, Continues):
        raise MoodtuneError(f"the {engine.name} engine cannot continue audio (the sequence engine can)")
    out = output_path(out)
    audio, sr = read_input(audio_in, engine.sr)
    result = engine.continue_audio(audio, request)
    write_wav(out, result.audio, sr)
    mel = LogMel(MelConfig(sr=sr))(result.audio).numpy()
    png = plot_spectrogram(mel, out.with_suffix(".png"), f"{Path(audio_in).name} continued ({out.name})", sr)
    return {
        "wav": str(out),
        "png": str(png),
        "input_seconds": round(len(audio) / sr, 2),
        "seconds": round(len(result.audio) / sr, 2),
    }


def write_mood_samples(
    engine: Engine,
    folder: str | os.PathLike[str],
    seconds: float,
    moods: tuple[str, ...] = QUADRANT_MOODS,
    seed: int = 0,
) -> dict[str, Any]:
    """One clip per named mood: ``FOLDER/<mood>.wav`` and their waveforms side by side in ``FOLDER/moods.png``.
    Returns ``{mood: {"wav": path, "seconds": s}, "png": path}``."""
    folder = Path(folder)
    clips = mood_clips(engine, moods, seconds, seed)
    written: dict[str, Any] = {
        name: {"wav": str(write_wav(folder / f"{name}.wav", r.audio, r.sr)), "seconds": seconds} for name, r in clips
    }
    title = f"{engine.name} engine: one clip per mood (seed {seed})"
    named = [(name, r.audio) for name, r in clips]
    written["png"] = str(plot_waveforms(named, engine.sr, folder / "moods.png", title))
    return written


def vary_file(
    engine: Engine,
    audio_in: str | os.PathLike[str],
    out: str | os.PathLike[str],
    amount: float = 0.5,
    seed: int = 0,
    mood: Mood | None = None,
    style: str | None = None,
) -> dict[str, Any]:
    """Encode -> perturb -> decode an audio file with an engine that varies; writes OUT.wav and OUT.png."""
    if not isinstance(engine, Varies):
        raise MoodtuneError(f"the {engine.name} engine cannot make variations (the waveform engine can)")
    out = output_path(out)
    audio, sr = read_input(audio_in, engine.sr)
    v, a = (mood.valence, mood.arousal) if mood is not None else (None, None)
    varied = engine.vary(audio, amount, seed, v, a, style)
    write_wav(out, varied, sr)
    named = [(f"input ({Path(audio_in).name}, at {sr} Hz)", audio), (f"varied, amount {amount:g}", varied)]
    png = plot_waveforms(named, sr, out.with_suffix(".png"), f"{engine.name} engine: vary ({out.name})")
    return {"wav": str(out), "png": str(png), "seconds": round(len(varied) / sr, 3), "sr": sr}


def load(model: str | os.PathLike[str] | None = None, device: str = "cpu") -> Engine:
    """An engine ready to generate: a shipped model by name (``"symbolic"``; None: the default engine, the one
    with the best measured mood control) or any run folder written by ``moodtune train``.

    >>> engine = moodtune.load("spectrogram")
    >>> result = engine.generate(Request(mood=Mood.named("calm"), seconds=10))  # result.audio [T] at result.sr
    """
    return load_engine(default_engine() if model is None else model, device)


def open_engine(
    checkpoint: str | os.PathLike[str] | None = None, engine: str | None = None, device: str = "cpu"
) -> Engine:
    """The run folder ``checkpoint`` if given, else the shipped model ``engine`` (None: the default engine)."""
    if checkpoint is not None and engine is not None:
        raise MoodtuneError("give --checkpoint or --engine, not both")
    if checkpoint is not None:
        return load_engine(checkpoint, device)
    if engine is None:
        return load(None, device)
    engines = shipped_engines()
    if engine == MOOD_MODEL:
        raise MoodtuneError(
            f"'{MOOD_MODEL}' is the shipped mood model (the judge), read with 'moodtune analyze'; "
            f"shipped engines: {', '.join(engines)}"
        )
    if engine not in engines:
        available = ", ".join(engines) if engines else "none are installed (run 'make models' in a source checkout)"
        raise MoodtuneError(
            f"no shipped {engine!r} engine; shipped engines: {available}; or give --checkpoint RUN (a trained run)"
        )
    return load_engine(shipped_path(engine), device)


def load_mood_model(path: str | os.PathLike[str] | None = None) -> MoodModel:
    """The mood model at ``path`` (a run of ``moodtune train mood``), else the shipped one."""
    return MoodModel.from_checkpoint(shipped_path(MOOD_MODEL) if path is None else path)
