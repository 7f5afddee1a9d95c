"""Command line: parses arguments and calls the library; user errors -> one line, exit code 2."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from moodtune import __version__
from moodtune.errors import MoodtuneError

EXIT_USAGE = 2


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from exc
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _add_prepare(sub: argparse._SubParsersAction) -> None:
    from moodtune.data.prepare import DATASETS, DEFAULT_CLIP_SECONDS

    p = sub.add_parser(
        "prepare",
        help="turn a dataset into a manifest of clips with cached log-mel features",
        description=(
            "Prepare a dataset: cut its tracks into clips, label them, split by track into "
            "train/val/test, and cache log-mel features. Writes OUT/manifest.parquet, "
            "OUT/summary.json and OUT/cache/. Unreadable inputs are skipped and counted; a second "
            "run with the same inputs reuses everything. Datasets: builtin (music21 scores rendered "
            "under controlled mood cues; no ROOT), deam, gtzan, midi (any MIDI folder), audio (any "
            "audio folder)."
        ),
    )
    p.add_argument("dataset", choices=DATASETS, help="which dataset adapter to use")
    p.add_argument("root", nargs="?", help="dataset folder (not for builtin)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--clip-seconds", type=float, default=DEFAULT_CLIP_SECONDS, help="clip length (default %(default)s)")
    p.add_argument("--limit", type=_positive_int, help="use at most N tracks (pieces for builtin): a tiny dataset")
    p.add_argument("--workers", type=_positive_int, help="parallel worker processes (default: all cores)")
    p.add_argument("--soundfont", help="General MIDI .sf2 used to render MIDI (default: the one pretty_midi ships)")
    p.add_argument("--labels", help="midi only: CSV with columns file, valence, arousal")
    p.add_argument("--seed", type=int, default=0, help="seed of the split and the builtin cue draws (default 0)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_prepare)


def _print_summary(console: Console, summary: dict, seconds: float, reused: int) -> None:
    from rich.table import Table

    console.print(
        f"[bold]{summary['dataset']}[/]: {summary['clips']} clips from {summary['tracks']} tracks "
        f"({summary['hours'] * 60:.1f} min), {summary['skipped_count']} file(s) skipped, "
        f"{summary.get('silent_clips_dropped', 0)} silent clip(s) dropped; {seconds:.1f} s"
        + (f" ({reused} track(s) reused from an earlier run)" if reused else "")
    )
    table = Table(title="clips per split / quadrant / style", show_header=True)
    table.add_column("group")
    table.add_column("value")
    table.add_column("clips", justify="right")
    for split, c in summary["splits"].items():
        table.add_row("split", split, f"{c['clips']} ({c['tracks']} tracks)")
    for q, n in summary["quadrants"].items():
        table.add_row("quadrant", q, str(n))
    for s, n in summary["styles"].items():
        table.add_row("style", s, str(n))
    console.print(table)


def _cmd_prepare(args: argparse.Namespace, console: Console) -> int:
    from moodtune.data.prepare import prepare

    err = Console(stderr=True)
    result = prepare(
        args.dataset,
        args.root,
        args.out,
        clip_seconds=args.clip_seconds,
        limit=args.limit,
        workers=args.workers,
        soundfont=args.soundfont,
        labels=args.labels,
        seed=args.seed,
        progress=not args.quiet,
        warn=lambda line: err.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True),
    )
    _print_summary(console, result.summary, result.seconds, result.jobs_reused)
    console.print(f"manifest: {result.manifest_path}")
    return 0


def _add_demo(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "demo",
        help="the main job on the built-in corpus",
        description=(
            "Build the built-in mood corpus; train small spectrogram, symbolic, sequence, waveform and latent "
            "models for a few minutes each; write happy / sad / angry / calm audio with spectrogram or waveform "
            "PNGs, MIDI with rendered audio, engraved scores and piano rolls, a 30 s sad -> happy piece and a "
            "continuation; train the independent mood model and print the mood it measures in each generated "
            "file. A second run reuses the corpus and the models."
        ),
    )
    p.add_argument("--out", default="runs/demo", help="output folder (default %(default)s)")
    p.add_argument("--limit", type=_positive_int, help="use at most N pieces (default: the full built-in corpus)")
    p.add_argument("--workers", type=_positive_int, help="parallel worker processes (default: all cores)")
    p.add_argument("--minutes", type=float, default=3.0, help="spectrogram training budget (default %(default)s)")
    p.add_argument("--symbolic-minutes", type=float, default=2.0, help="symbolic training budget (default %(default)s)")
    p.add_argument("--sequence-minutes", type=float, default=1.5, help="sequence training budget (default %(default)s)")
    p.add_argument("--waveform-minutes", type=float, default=2.0, help="waveform training budget (default %(default)s)")
    p.add_argument("--latent-minutes", type=float, default=1.5, help="latent training budget (default %(default)s)")
    p.add_argument("--seconds", type=float, default=20.0, help="length of each generated clip (default %(default)s)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_demo)


def _cmd_demo(args: argparse.Namespace, console: Console) -> int:
    from pathlib import Path

    from rich.table import Table

    from moodtune.demo import run_demo

    err = Console(stderr=True)
    report = run_demo(
        Path(args.out),
        limit=args.limit,
        workers=args.workers,
        minutes=args.minutes,
        seconds=args.seconds,
        symbolic_minutes=args.symbolic_minutes,
        sequence_minutes=args.sequence_minutes,
        waveform_minutes=args.waveform_minutes,
        latent_minutes=args.latent_minutes,
        progress=not args.quiet,
        say=lambda line: console.rule(f"[bold]{line}"),
        warn=lambda line: err.print(f"[yellow]warning:[/] {line}", highlight=False, soft_wrap=True),
    )
    prepared = report["data"]
    _print_summary(console, prepared.summary, prepared.seconds, prepared.jobs_reused)
    res = report["spectrogram"]
    console.print(
        f"spectrogram model: {res.get('params', 0):,} parameters, trained {res.get('train_minutes')} min "
        f"({res.get('epochs')} epochs); held-out log-spectral distance {res.get('heldout_lsd_db')} dB "
        f"on {res.get('heldout_clips')} {res.get('heldout_split')} clips; {res.get('active_units')} active latent units"
    )
    sym = report["symbolic"]
    console.print(
        f"symbolic model: {sym.get('params', 0):,} parameters, trained {sym.get('train_minutes')} min "
        f"({sym.get('epochs')} epochs); validation perplexity {sym.get('val_perplexity')}, "
        f"test perplexity {sym.get('test_perplexity')}"
    )
    mm = report.get("mood_model", {})
    console.print(
        f"mood model: test R^2 valence {mm.get('test_valence_r2')}, arousal {mm.get('test_arousal_r2')}; "
        "'measured' below is its reading of each generated WAV (valence, arousal -> nearest mood)"
    )
    table = Table(title="generated")
    table.add_column("mood")
    table.add_column("spectrogram engine", overflow="fold")
    table.add_column("measured", overflow="fold")
    table.add_column("symbolic engine (MIDI; .wav .musicxml .svg .png beside it)", overflow="fold")
    table.add_column("measured", overflow="fold")

    def measured(engine: str, mood: str) -> str:
        m = report["measured"][engine][mood]
        return f"{m['valence']:+.2f}, {m['arousal']:+.2f} -> {m['mood']}"

    for mood, files in report["spectrogram_samples"].items():
        table.add_row(
            mood,
            files["wav"],
            measured("spectrogram", mood),
            report["symbolic_samples"][mood]["midi"],
            measured("symbolic", mood),
        )
    console.print(table)
    seq = report["sequence"]
    console.print(
        f"sequence model ({seq.get('loss')}): trained {seq.get('train_minutes')} min ({seq.get('epochs')} epochs); "
        f"free-running validation L2 {seq.get('best_val_free_l2')}"
    )
    for name, files in report["sequence_samples"].items():
        console.print(f"sequence engine, {name}: {files['wav']} (measured {measured('sequence', name)})")
    wave, lat = report["waveform"], report["latent"]
    cfg = wave.get("config", {})
    console.print(
        f"waveform model ({cfg.get('sr')} Hz, {cfg.get('seconds')} s windows, latent {cfg.get('latent_dim')}): "
        f"trained {wave.get('train_minutes')} min ({wave.get('epochs')} epochs); held-out MR-STFT log-magnitude "
        f"{wave.get('heldout_mrstft_logmag')}"
    )
    console.print(
        f"latent model over the {lat.get('codec')} codec: trained {lat.get('train_minutes')} min "
        f"({lat.get('epochs')} epochs); held-out MR-STFT log-magnitude {lat.get('heldout_vae_mrstft_logmag')} "
        f"(codec alone {lat.get('heldout_codec_mrstft_logmag')})"
    )
    table = Table(title="waveform and latent engines")
    for col in ("mood", "waveform engine", "measured", "latent engine", "measured"):
        table.add_column(col, overflow="fold")
    for mood, files in report["waveform_samples"].items():
        table.add_row(
            mood,
            files["wav"],
            measured("waveform", mood),
            report["latent_samples"][mood]["wav"],
            measured("latent", mood),
        )
    console.print(table)
    return 0


def _add_train(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a model family on a prepared dataset",
        description=(
            "Train an engine on a folder made by 'moodtune prepare'. Writes RUN/model.safetensors and "
            "RUN/config.json (all that generation needs), RUN/checkpoints/{best,last}.ckpt (to resume), "
            "RUN/logs/*/metrics.csv and RUN/plots/. Seeds are fixed, so a CPU run is reproducible."
        ),
    )
    p.add_argument(
        "engine",
        choices=["spectrogram", "symbolic", "sequence", "waveform", "latent", "mood"],
        help="model family; 'sequence' needs --vae (a spectrogram run); 'latent' needs a codec: --vae (a "
        "spectrogram run, offline) or --encodec (EnCodec weights); 'mood' is the independent "
        "valence/arousal regressor that evaluate and analyze use",
    )
    p.add_argument("--data", required=True, help="prepared dataset folder")
    p.add_argument("--out", required=True, help="run folder")
    p.add_argument("--epochs", type=_positive_int, default=30, help="maximum epochs (default %(default)s)")
    p.add_argument("--max-minutes", type=float, help="stop after this much training time")
    p.add_argument(
        "--latent-dim",
        type=_positive_int,
        help="latent size (default: spectrogram 100, waveform 2 as in the seed, latent 32)",
    )
    p.add_argument(
        "--tokens", choices=["timed", "notes"], default="timed", help="symbolic: token format (default timed)"
    )
    p.add_argument("--seq-len", type=_positive_int, default=40, help="symbolic: tokens of context (default 40)")
    p.add_argument(
        "--no-transpose",
        action="store_true",
        help="symbolic: keep each piece in its own key (default: move every piece to a C tonic, so mode is learnable)",
    )
    p.add_argument("--vae", help="sequence: the spectrogram run whose latents it models; latent: that run as the codec")
    p.add_argument(
        "--loss", choices=["gan", "l2"], default="gan", help="sequence: L2 + adversarial (gan) or L2 only (default gan)"
    )
    p.add_argument("--steps", type=_positive_int, default=6, help="sequence: latents per training window (default 6)")
    p.add_argument("--sample-rate", type=_positive_int, default=3000, help="waveform: audio rate in Hz (default 3000)")
    p.add_argument(
        "--clip-seconds",
        type=float,
        help="waveform: window length (default 30, i.e. 90 001 samples at 3 kHz); latent: clip length (default 5)",
    )
    p.add_argument(
        "--spectral-weight",
        type=float,
        default=0.01,
        help="waveform: weight of the multi-resolution STFT term per sample; 0 = the seed's plain ELBO "
        "(default %(default)s)",
    )
    p.add_argument(
        "--encodec", help="latent: EnCodec weights (a local folder, or a hub id such as facebook/encodec_24khz)"
    )
    p.add_argument("--bandwidth", type=float, default=6.0, help="latent with --encodec: kbps (default %(default)s)")
    p.add_argument("--batch-size", type=_positive_int, help="batch size (default 32; waveform 8)")
    p.add_argument(
        "--size", choices=["debug", "small", "base"], default="small", help="network width (default %(default)s)"
    )
    p.add_argument("--lr", type=float, help="learning rate (default: Adam 1e-3 spectrogram, Adamax 2e-3 symbolic)")
    p.add_argument(
        "--beta", type=float, help="KL weight after warm-up (default: spectrogram and latent 0.01, waveform 1)"
    )
    p.add_argument(
        "--accelerator", choices=["auto", "cpu", "gpu"], default="auto", help="where to train (default %(default)s)"
    )
    p.add_argument("--devices", type=_positive_int, default=1, help="number of devices (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    p.add_argument("--resume", action="store_true", help="continue the run in --out from its last checkpoint")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_train)


def _common_train_fields(args: argparse.Namespace) -> dict[str, object]:
    """The training-config fields every Lightning-trained engine shares."""
    return {
        "data": args.data,
        "out": args.out,
        "epochs": args.epochs,
        "max_minutes": args.max_minutes,
        "size": args.size,
        "batch_size": args.batch_size or 32,
        "accelerator": args.accelerator,
        "devices": args.devices,
        "seed": args.seed,
    }


def _cmd_train(args: argparse.Namespace, console: Console) -> int:
    if args.engine == "symbolic":
        return _train_symbolic(args, console)
    if args.engine == "mood":
        return _train_mood(args, console)
    if args.engine == "sequence":
        return _train_sequence(args, console)
    if args.engine == "waveform":
        return _train_waveform(args, console)
    if args.engine == "latent":
        return _train_latent(args, console)
    from moodtune.training.spectrogram import SpectrogramTrainConfig, train_spectrogram

    cfg = SpectrogramTrainConfig(
        **_common_train_fields(args),
        latent_dim=args.latent_dim or 100,
        lr=args.lr or 1e-3,
        beta=0.01 if args.beta is None else args.beta,
    )
    results = train_spectrogram(cfg, resume=args.resume, progress=not args.quiet)
    console.print(
        f"trained spectrogram in {results['train_minutes']} min "
        f"({results['epochs']} epochs, {results['steps']} steps); "
        f"held-out log-spectral distance {results.get('heldout_lsd_db', float('nan'))} dB, "
        f"{results.get('active_units', 0)} active latent units"
    )
    console.print(f"checkpoint: {args.out}  plots: {args.out}/plots")
    return 0


def _train_symbolic(args: argparse.Namespace, console: Console) -> int:
    from moodtune.training.symbolic import SymbolicTrainConfig, train_symbolic

    cfg = SymbolicTrainConfig(
        **_common_train_fields(args),
        tokens=args.tokens,
        seq_len=args.seq_len,
        transpose=not args.no_transpose,
        lr=args.lr or 2e-3,
    )
    results = train_symbolic(cfg, resume=args.resume, progress=not args.quiet)
    console.print(
        f"trained symbolic ({cfg.tokens} tokens, vocabulary {results['vocabulary']}) "
        f"in {results['train_minutes']} min ({results['epochs']} epochs); "
        f"validation perplexity {results['val_perplexity']}"
        + (f", test perplexity {results['test_perplexity']}" if "test_perplexity" in results else "")
    )
    console.print(f"checkpoint: {args.out}")
    return 0


def _train_sequence(args: argparse.Namespace, console: Console) -> int:
    from moodtune.training.sequence import SequenceTrainConfig, train_sequence

    if not args.vae:
        raise MoodtuneError("train sequence needs --vae RUN (a spectrogram run)")
    cfg = SequenceTrainConfig(
        **_common_train_fields(args),
        vae=args.vae,
        loss=args.loss,
        steps=args.steps,
        lr=args.lr or 1e-3,
    )
    r = train_sequence(cfg, resume=args.resume, progress=not args.quiet)
    console.print(
        f"trained sequence ({r['loss']}) on {r['train_tracks']} tracks in {r['train_minutes']} min "
        f"({r['epochs']} epochs); free-running validation L2 {r['best_val_free_l2']:.4f}"
    )
    console.print(f"checkpoint: {args.out}")
    return 0


def _train_waveform(args: argparse.Namespace, console: Console) -> int:
    from moodtune.training.waveform import WaveformTrainConfig, train_waveform

    cfg = WaveformTrainConfig(
        **{**_common_train_fields(args), "batch_size": args.batch_size or 8},
        sr=args.sample_rate,
        seconds=args.clip_seconds or 30.0,
        latent_dim=args.latent_dim or 2,
        lr=args.lr or 3e-4,
        beta=1.0 if args.beta is None else args.beta,
        spectral_weight=args.spectral_weight,
    )
    r = train_waveform(cfg, resume=args.resume, progress=not args.quiet)
    console.print(
        f"trained waveform ({cfg.sr} Hz, {cfg.seconds:g} s windows, latent {cfg.latent_dim}) on {r['train_windows']} "
        f"windows in {r['train_minutes']} min ({r['epochs']} epochs); held-out MR-STFT spectral convergence "
        f"{r.get('heldout_mrstft_sc')}, log-magnitude L1 {r.get('heldout_mrstft_logmag')}"
    )
    console.print(f"checkpoint: {args.out}  plots: {args.out}/plots (training.gif: one waveform grid per epoch)")
    return 0


def _train_latent(args: argparse.Namespace, console: Console) -> int:
    from moodtune.training.latent import LatentTrainConfig, train_latent

    if bool(args.vae) == bool(args.encodec):
        raise MoodtuneError("train latent needs one codec: --vae RUN (a spectrogram run) or --encodec DIR_OR_HUB_ID")
    codec = {"kind": "encodec", "path": args.encodec, "bandwidth": args.bandwidth} if args.encodec else None
    cfg = LatentTrainConfig(
        **_common_train_fields(args),
        codec=codec or {"kind": "spectrogram", "path": args.vae},
        clip_seconds=args.clip_seconds or 5.0,
        latent_dim=args.latent_dim or 32,
        lr=args.lr or 1e-3,
        beta=0.01 if args.beta is None else args.beta,
    )
    r = train_latent(cfg, resume=args.resume, progress=not args.quiet)
    console.print(
        f"trained latent over the {r['codec']} codec on {r['train_clips']} clips of {cfg.clip_seconds:g} s in "
        f"{r['train_minutes']} min ({r['epochs']} epochs); held-out latent MSE {r.get('heldout_latent_mse')}, "
        f"codec-only MR-STFT log-magnitude {r.get('heldout_codec_mrstft_logmag')}, "
        f"through the VAE {r.get('heldout_vae_mrstft_logmag')}"
    )
    console.print(f"checkpoint: {args.out}  plots: {args.out}/plots  samples: {args.out}/samples")
    return 0


def _add_vary(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "vary",
        help="make a variation of an audio file with the waveform engine",
        description="Encode IN.wav window by window with a waveform checkpoint, move each latent by --amount times "
        "the spread of the training latents (0 = plain reconstruction), decode, and write OUT.wav (at the model's "
        "sample rate) with a waveform plot OUT.png of input and variation.",
    )
    p.add_argument("input", help="audio file (wav, mp3, ogg, flac)")
    p.add_argument("--checkpoint", required=True, help="waveform run folder")
    p.add_argument("--amount", type=float, default=0.5, help="how far to move in latent space (default %(default)s)")
    p.add_argument("--mood", help="condition encoder and decoder on this mood (default: unknown)")
    p.add_argument("--style", help="style known to the model (default: unknown)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    p.add_argument("--out", required=True, help="output WAV")
    p.set_defaults(func=_cmd_vary)


def _cmd_vary(args: argparse.Namespace, console: Console) -> int:
    from moodtune.api import open_engine, vary_file
    from moodtune.mood import Mood

    mood = Mood.parse(args.mood) if args.mood else None
    return _print_written(
        console, vary_file(open_engine(args.checkpoint), args.input, args.out, args.amount, args.seed, mood, args.style)
    )


def _add_continue(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "continue",
        help="continue a piece with the sequence engine",
        description="Encode IN.wav, roll the sequence model on from its last slice for --seconds, and write the "
        "input followed by the continuation (crossfaded) to OUT.wav, with its spectrogram PNG beside it.",
    )
    p.add_argument("input", help="audio file to continue (wav, mp3, ogg, flac)")
    _add_mood_args(p)
    p.add_argument("--checkpoint", required=True, help="sequence run folder")
    p.add_argument("--seconds", type=float, default=30.0, help="length of the continuation (default %(default)s)")
    p.add_argument("--style", help="style known to the model (default: unknown)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    p.add_argument("--temperature", type=float, default=1.0, help="noise scale (default %(default)s)")
    p.add_argument("--out", required=True, help="output WAV")
    p.set_defaults(func=_cmd_continue)


def _cmd_continue(args: argparse.Namespace, console: Console) -> int:
    from moodtune.api import continue_file, make_request, open_engine

    if args.mood is None and args.valence is None and args.trajectory is None and args.trajectory_file is None:
        args.mood = "calm"
    request = make_request(
        args.mood,
        args.valence,
        args.arousal,
        args.trajectory,
        args.trajectory_file,
        seconds=args.seconds,
        style=args.style,
        seed=args.seed,
        temperature=args.temperature,
    )
    return _print_written(console, continue_file(open_engine(args.checkpoint), args.input, request, args.out))


def _train_mood(args: argparse.Namespace, console: Console) -> int:
    from moodtune.training.mood import MoodTrainConfig, train_mood

    cfg = MoodTrainConfig(data=args.data, out=args.out, seed=args.seed, **({"lr": args.lr} if args.lr else {}))
    r = train_mood(cfg, progress=not args.quiet)
    console.print(
        f"trained the mood model on {r['train_clips']} clips ({r['train_windows']} windows) in {r['train_seconds']} s; "
        f"test R^2 valence {r['test_valence_r2']}, arousal {r['test_arousal_r2']}; "
        f"RMSE valence {r['test_valence_rmse']}, arousal {r['test_arousal_rmse']}; "
        f"quadrant accuracy {r['test_quadrant_accuracy']}"
    )
    console.print(f"checkpoint: {args.out}  plots: {args.out}/plots")
    return 0


def _add_analyze(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="predict the valence/arousal and nearest named mood of audio files",
        description=(
            "Music-emotion recognition: print each file's predicted valence, arousal and nearest named mood, "
            "using a mood model trained by 'moodtune train mood'. Folders are searched for audio files; "
            "unreadable files are reported and skipped. With --curve, also a per-second curve (CSV and plot)."
        ),
    )
    p.add_argument("inputs", nargs="+", help="audio files or folders")
    p.add_argument(
        "--model",
        default="runs/demo/data/mood-model",
        help="mood model run folder (default %(default)s, made by make demo)",
    )
    p.add_argument("--curve", action="store_true", help="also measure the mood every second")
    p.add_argument("--step", type=float, default=1.0, help="curve step in seconds (default %(default)s)")
    p.add_argument("--out", help="folder for the curves (NAME.csv and NAME.png per file; default: print only)")
    p.add_argument("--csv", help="write the per-file table to this CSV")
    p.set_defaults(func=_cmd_analyze)


def _cmd_analyze(args: argparse.Namespace, console: Console) -> int:
    from rich.table import Table

    from moodtune.evaluation.analyze import analyze_files, expand_inputs, write_analysis
    from moodtune.evaluation.mood_model import MoodModel

    err = Console(stderr=True)
    model = MoodModel.from_checkpoint(args.model)
    files = expand_inputs(args.inputs)
    skipped: list[str] = []

    def skip(path: object, reason: str) -> None:
        skipped.append(reason)
        err.print(f"[yellow]skipped:[/] {reason}", highlight=False, soft_wrap=True)

    results = list(analyze_files(model, files, curve=args.curve, step_s=args.step, skipped=skip))
    table = Table(title=f"mood of {len(results)} file(s)")
    for col in ("file", "seconds", "valence", "arousal", "mood"):
        table.add_column(col, justify="right" if col in ("seconds", "valence", "arousal") else "left", overflow="fold")
    for r in results:
        table.add_row(str(r.path), f"{r.seconds:.1f}", f"{r.valence:+.3f}", f"{r.arousal:+.3f}", r.mood)
    console.print(table)
    if args.curve and not args.out:
        for r in results:
            console.print(f"# {r.path}\ntime,valence,arousal", highlight=False)
            for t, (v, a) in zip(r.times, r.curve, strict=True):
                console.print(f"{t:.2f},{v:.4f},{a:.4f}", highlight=False)
    for line in write_analysis(results, args.csv, args.out):
        console.print(line)
    if skipped:
        console.print(f"{len(skipped)} file(s) skipped")
    return 0 if results else EXIT_USAGE


def _add_evaluate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="measure a checkpoint: mood control, FAD, diversity, reconstruction, symbolic metrics",
        description=(
            "Generate --n samples asked for happy/angry/sad/calm in turn and measure them against real held-out "
            "clips of DATA: mood control (by an independent mood model), Fréchet Audio Distance (mfcc and mood "
            "embeddings), diversity, reconstruction (spectrogram engine), symbolic metrics vs the training data "
            "(symbolic engine) and how well a mood trajectory is followed. Every table has a real-data row and "
            "a trivial-generator row. Writes OUT/report.json, OUT/report.md and plots."
        ),
    )
    p.add_argument("--checkpoint", required=True, help="run folder written by 'moodtune train'")
    p.add_argument("--data", required=True, help="prepared dataset the model was trained on")
    p.add_argument("--out", required=True, help="report folder")
    p.add_argument("--n", type=_positive_int, default=64, help="generated samples (default %(default)s)")
    p.add_argument("--seconds", type=float, default=8.0, help="length of each sample (default %(default)s)")
    p.add_argument("--mood-model", help="mood model run folder (default: DATA/mood-model, trained there on first use)")
    p.add_argument("--trajectory", default="sad:0,happy:30", help="mood curve to follow (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="first seed (default %(default)s)")
    p.add_argument(
        "--clap",
        help="also FAD with CLAP embeddings: a folder with a saved transformers ClapModel + ClapFeatureExtractor "
        "(e.g. laion/clap-htsat-unfused), or that hub id when online",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bars")
    p.set_defaults(func=_cmd_evaluate)


def _cmd_evaluate(args: argparse.Namespace, console: Console) -> int:
    from rich.markdown import Markdown

    from moodtune.evaluation.report import EvaluateConfig, evaluate

    cfg = EvaluateConfig(
        checkpoint=args.checkpoint,
        data=args.data,
        out=args.out,
        n=args.n,
        seconds=args.seconds,
        mood_model=args.mood_model,
        trajectory=args.trajectory,
        seed=args.seed,
        clap=args.clap,
    )
    evaluate(cfg, progress=not args.quiet, say=lambda line: console.print(f"[dim]{line}[/]"))
    console.print(Markdown((Path(args.out) / "report.md").read_text()))
    console.print(f"report: {args.out}/report.md  {args.out}/report.json  plots: {args.out}/*.png")
    return 0


def _add_mood_args(p: argparse.ArgumentParser, trajectory: bool = True) -> None:
    g = p.add_argument_group("mood (give one)")
    g.add_argument("--mood", help="a named mood (happy, sad, angry, calm, ...) or 'valence,arousal'")
    g.add_argument("--valence", type=float, help="valence in [-1, 1] (with --arousal)")
    g.add_argument("--arousal", type=float, help="arousal in [-1, 1] (with --valence)")
    if trajectory:
        g.add_argument("--trajectory", help="mood curve, e.g. 'sad:0,happy:30' (MOOD:SECONDS, linear between)")
        g.add_argument("--trajectory-file", help="CSV with columns time,valence,arousal")


def _add_sampling_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--checkpoint", required=True, help="run folder written by 'moodtune train'")
    p.add_argument("--style", help="style / genre known to the model (default: unknown)")
    p.add_argument("--seconds", type=float, default=30.0, help="length (default %(default)s)")
    p.add_argument("--seed", type=int, default=0, help="random seed (default %(default)s)")
    p.add_argument("--temperature", type=float, default=1.0, help="sampling temperature (default %(default)s)")
    p.add_argument("--out", required=True, help="output WAV; for a symbolic checkpoint the .mid (WAV/score beside it)")
    p.add_argument("--plot", action="store_true", help="also write the mel spectrogram as PNG beside it")
    p.add_argument("--notes", type=_positive_int, help="symbolic: stop after this many notes instead of --seconds")
    p.add_argument("--top-k", type=_positive_int, help="symbolic: sample among the K most likely tokens")
    p.add_argument("--top-p", type=float, help="symbolic: nucleus sampling threshold in (0, 1]")
    p.add_argument("--primer", help="symbolic: MIDI file whose notes the generation continues")


def _add_generate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="generate music for a mood, a valence/arousal point or a mood curve",
        description="Generate audio from a trained checkpoint and write it as WAV.",
    )
    _add_mood_args(p)
    _add_sampling_args(p)
    p.set_defaults(func=_cmd_generate)


def _cmd_generate(args: argparse.Namespace, console: Console) -> int:
    from moodtune.api import generate_to_file, make_request, open_engine

    request = make_request(
        args.mood, args.valence, args.arousal, args.trajectory, args.trajectory_file, **_sampling_options(args)
    )
    return _print_written(console, generate_to_file(open_engine(args.checkpoint), request, args.out, plot=args.plot))


def _sampling_options(args: argparse.Namespace) -> dict[str, object]:
    """The Request fields that :func:`_add_sampling_args` adds to a command."""
    return {
        "seconds": args.seconds,
        "style": args.style,
        "seed": args.seed,
        "temperature": args.temperature,
        "notes": args.notes,
        "top_k": args.top_k,
        "top_p": args.top_p,
        "primer": args.primer,
    }


def _print_written(console: Console, written: dict[str, object]) -> int:
    """Print what a command wrote (``name: value`` pairs on one line); exit code 0."""
    console.print(" ".join(f"{k}: {v}" for k, v in written.items()))
    return 0


def _add_interpolate(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "interpolate",
        help="morph from one mood to another over time",
        description="Generate audio whose mood moves linearly from --from to --to over --seconds.",
    )
    p.add_argument("--from", dest="start", required=True, help="starting mood (name or 'valence,arousal')")
    p.add_argument("--to", dest="end", required=True, help="final mood (name or 'valence,arousal')")
    _add_sampling_args(p)
    p.set_defaults(func=_cmd_interpolate)


def _cmd_interpolate(args: argparse.Namespace, console: Console) -> int:
    from moodtune.api import generate_to_file, open_engine
    from moodtune.engines.base import Request
    from moodtune.mood import Mood, Trajectory

    start, end = Mood.parse(args.start), Mood.parse(args.end)
    trajectory = Trajectory(((0.0, start), (max(args.seconds, 1e-3), end)))
    request = Request(trajectory=trajectory, **_sampling_options(args))
    return _print_written(console, generate_to_file(open_engine(args.checkpoint), request, args.out, plot=args.plot))


def _add_reconstruct(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "reconstruct",
        help="encode -> decode -> vocode an audio file (shows what the model keeps)",
        description="Reconstruct an audio file through a spectrogram checkpoint; writes OUT.wav and an "
        "original-vs-reconstruction spectrogram OUT.png, and prints the log-spectral distance.",
    )
    p.add_argument("input", help="audio file (wav, mp3, ogg, flac)")
    p.add_argument("--checkpoint", required=True, help="spectrogram run folder")
    p.add_argument("--out", required=True, help="output WAV")
    p.set_defaults(func=_cmd_reconstruct)


def _cmd_reconstruct(args: argparse.Namespace, console: Console) -> int:
    from moodtune.api import open_engine, reconstruct_file

    return _print_written(console, reconstruct_file(open_engine(args.checkpoint), args.input, args.out))


def build_parser() -> argparse.ArgumentParser:
    """The ``moodtune`` argument parser with all subcommands."""
    parser = argparse.ArgumentParser(
        prog="moodtune",
        description="Mood-conditioned music generation: prepare data, train, generate, evaluate.",
    )
    parser.add_argument("--version", action="version", version=f"moodtune {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_prepare(sub)
    _add_train(sub)
    _add_generate(sub)
    _add_interpolate(sub)
    _add_reconstruct(sub)
    _add_continue(sub)
    _add_vary(sub)
    _add_evaluate(sub)
    _add_analyze(sub)
    _add_demo(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``moodtune`` console script."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s: %(message)s")
    parser = build_parser()
    args = parser.parse_args(argv)
    console = Console()
    try:
        return int(args.func(args, console) or 0)
    except MoodtuneError as exc:
        print(f"moodtune: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("moodtune: interrupted (finished work is kept; run the same command again to resume)", file=sys.stderr)
        return 130
