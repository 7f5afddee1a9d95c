"""``make bench``: speed measurements on this machine, each as a ratio against a reference in the same run.

Writes docs/benchmarks.md with the command, the machine and the numbers. Never part of make test.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
import queue as queue_module
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch

from moodtune.audio.features import LogMel, MelConfig
from moodtune.audio.vocoder import GriffinLimVocoder, spectral_convergence
from moodtune.fsutil import write_text_atomic
from moodtune.shipped import SHIPPED_DIR

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scaling import bench_data_scaling

from engines import bench_engines
from server import bench_server


def best_of(fn: Callable[[], object], repeat: int) -> float:
    """Fastest wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def test_signal(seconds: float, sr: int) -> np.ndarray:
    """30 s of real music: the first Bach chorale of the music21 corpus, performed as the builtin corpus does.

    The piece is played with "happy" cues (fast, detached) and looped if it is shorter than ``seconds``.
    """
    from music21 import corpus

    from moodtune.data.adapters.builtin import perform, read_score_notes, score_key
    from moodtune.data.cues import Cues
    from moodtune.midi.render import FluidSynthRenderer

    path = sorted(p for p in corpus.getCorePaths() if "/bach/bwv" in str(p) and str(p).endswith(".mxl"))[0]
    notes, sharps = read_score_notes(path)
    cues = Cues(mode=1, tempo=0.8, loudness=0.6, articulation=0.8, register=0)  # a "happy" rendering
    pm = perform(notes, cues, score_key(notes, sharps), (0,), 0)
    with FluidSynthRenderer(sr=sr) as renderer:
        audio = renderer.render(pm)
    n = int(seconds * sr)
    audio = np.tile(audio, int(np.ceil(n / len(audio))))[:n]
    return (0.5 * audio / np.max(np.abs(audio))).astype(np.float32)


def librosa_mel(audio: np.ndarray, cfg: MelConfig) -> np.ndarray:
    """librosa's mel power spectrogram with the same basis (no norm), FFT size, hop and padding as ours."""
    import librosa

    return librosa.feature.melspectrogram(
        y=audio.astype(np.float32),
        sr=cfg.sr,
        n_fft=cfg.n_fft,
        hop_length=cfg.hop_length,
        n_mels=cfg.n_mels,
        norm=None,
        pad_mode="constant",
    )


def bench_logmel(audio: np.ndarray, cfg: MelConfig) -> list[tuple[str, str]]:
    logmel = LogMel(cfg)
    ours = best_of(lambda: logmel(audio), 5)

    import librosa

    def ref() -> np.ndarray:
        mel = librosa_mel(audio, cfg)
        return librosa.power_to_db(mel, top_db=None)

    theirs = best_of(ref, 5)
    return [
        ("log-mel of 30 s (ours, torch)", f"{ours * 1000:.1f} ms"),
        ("log-mel of 30 s (librosa)", f"{theirs * 1000:.1f} ms"),
        ("log-mel speed-up", f"**{theirs / ours:.1f}x**"),
    ]


def _librosa_vocoder(mel: np.ndarray, cfg: MelConfig, n_iter: int, length: int, queue: mp.Queue) -> None:
    import librosa  # here, not at the top: spawned measuring processes re-import this module

    t = time.perf_counter()
    y = librosa.feature.inverse.mel_to_audio(
        mel,
        sr=cfg.sr,
        n_fft=cfg.n_fft,
        hop_length=cfg.hop_length,
        norm=None,
        n_iter=n_iter,
        pad_mode="constant",
        length=length,
    )
    queue.put((time.perf_counter() - t, y))


def _librosa_pinv_griffinlim(mel: np.ndarray, cfg: MelConfig, n_iter: int, length: int) -> np.ndarray:
    """librosa's fast route: pseudo-inverse of the mel basis, then its Griffin-Lim (momentum 0.99)."""
    import librosa

    basis = librosa.filters.mel(sr=cfg.sr, n_fft=cfg.n_fft, n_mels=cfg.n_mels, fmin=cfg.fmin, fmax=cfg.fmax, norm=None)
    magnitude = np.sqrt(np.maximum(np.linalg.pinv(basis) @ mel, 0.0))
    return librosa.griffinlim(magnitude, n_iter=n_iter, hop_length=cfg.hop_length, n_fft=cfg.n_fft, length=length)


def bench_vocoder(audio: np.ndarray, cfg: MelConfig, n_iter: int, timeout: float | None) -> list[tuple[str, str]]:
    """Our vocoder (defaults, and the previous 300 NNLS iterations) beside librosa's pinv + Griffin-Lim on the
    same 30 s mel; with ``timeout``, also librosa's ``mel_to_audio`` (L-BFGS NNLS, can take half an hour)."""
    logmel = LogMel(cfg)
    wsum = float(logmel.window.sum())
    mel = librosa_mel(audio, cfg)

    def sc(y: np.ndarray) -> float:
        return spectral_convergence(torch.from_numpy(np.sqrt(mel)), torch.from_numpy(np.sqrt(librosa_mel(y, cfg))))

    target = torch.from_numpy(mel / wsum**2).float()
    rows = []
    ours = 0.0
    for label, voc in (
        ("ours, defaults", GriffinLimVocoder(cfg, n_iter=n_iter)),
        ("ours, before", GriffinLimVocoder(cfg, n_iter=n_iter, nnls_iter=300)),
    ):
        out = {}
        t = best_of(lambda voc=voc, out=out: out.__setitem__("y", voc.from_mel_power(target, length=len(audio))), 3)
        ours = ours or t
        rows.append(
            (
                f"vocoder, 30 s mel, n_iter {n_iter} ({label}: {voc.nnls_iter} FISTA NNLS + fast Griffin-Lim, torch)",
                f"{t:.2f} s, spectral convergence {sc(out['y'].numpy()):.4f}",
            )
        )
    out = {}
    t = best_of(lambda: out.__setitem__("y", _librosa_pinv_griffinlim(mel, cfg, n_iter, len(audio))), 1)
    rows.append(
        (
            f"vocoder, same mel, n_iter {n_iter} (librosa: pinv + griffinlim)",
            f"{t:.2f} s, spectral convergence {sc(out['y']):.4f}",
        )
    )
    if timeout is None:
        return rows
    # The reference runs in a child process so that a very slow NNLS can be stopped after `timeout` seconds.
    queue: mp.Queue = mp.get_context("spawn").Queue()
    child = mp.get_context("spawn").Process(target=_librosa_vocoder, args=(mel, cfg, n_iter, len(audio), queue))
    child.start()
    try:
        theirs, ref = queue.get(timeout=timeout)
        child.join()
        rows.append(
            (
                f"vocoder, same mel, n_iter {n_iter} (librosa.feature.inverse.mel_to_audio)",
                f"{theirs:.2f} s, spectral convergence {sc(ref):.4f}",
            )
        )
        rows.append(("vocoder speed-up", f"**{theirs / ours:.0f}x**"))
    except queue_module.Empty:
        child.kill()
        rows.append(
            (
                f"vocoder, same mel, n_iter {n_iter} (librosa.feature.inverse.mel_to_audio)",
                f"> {timeout:.0f} s (stopped)",
            )
        )
        rows.append(("vocoder speed-up", f"**> {timeout / ours:.0f}x**"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default="docs/benchmarks.md")
    parser.add_argument("--n-iter", type=int, default=32)
    parser.add_argument("--skip-librosa-vocoder", action="store_true", help="skip the slow reference (minutes)")
    parser.add_argument(
        "--reference-timeout", type=float, default=1800.0, help="stop librosa's vocoder after this many s"
    )
    parser.add_argument(
        "--runs", default=str(SHIPPED_DIR), help="folder with trained engine runs (default: the shipped models)"
    )
    parser.add_argument("--cpu-only", action="store_true", help="do not measure on a GPU even when there is one")
    parser.add_argument(
        "--data", type=Path, help="a prepared builtin folder for the data-scaling rows (default: prepare one)"
    )
    parser.add_argument("--work", type=Path, default=Path("runs/bench"), help="scratch folder")
    args = parser.parse_args()
    cfg = MelConfig()
    audio = test_signal(30.0, cfg.sr)
    rows = bench_logmel(audio, cfg)
    rows += bench_vocoder(audio, cfg, args.n_iter, None if args.skip_librosa_vocoder else args.reference_timeout)
    devices = ["cpu"] + (["cuda"] if torch.cuda.is_available() and not args.cpu_only else [])
    rows += bench_engines(args.runs, devices)
    rows += bench_server()
    rows += bench_data_scaling(args.data, args.work / "scaling")
    cpu = (
        next(
            (
                line.split(":", 1)[1].strip()
                for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")
            ),
            platform.processor(),
        )
        if Path("/proc/cpuinfo").exists()
        else platform.processor()
    )
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`python benchmarks/run.py`).",
        "Each figure is measured in one run, beside its reference.",
        "",
        f"Machine: {os.cpu_count()} cores, {cpu}, torch {torch.__version__} with {torch.get_num_threads()} threads, "
        f"{'CUDA ' + torch.cuda.get_device_name(0) if torch.cuda.is_available() else 'no GPU'}.",
        "",
        "| measurement | result |",
        "|---|---|",
        *(f"| {k} | {v} |" for k, v in rows),
        "",
        "Spectral convergence: ||M - M_hat||_F / ||M||_F on mel magnitudes (square root of mel power) of the "
        "input mel and of the mel of the vocoded audio; lower is better. The reference is librosa's "
        "`mel_to_audio` with the same mel basis, n_fft, hop and number of Griffin-Lim iterations.",
        "",
    ]
    if any("(stopped)" in v for _, v in rows):
        lines += [
            "librosa's reference was stopped at the time limit (`--reference-timeout`): its frame-by-frame "
            "L-BFGS-B NNLS can take from minutes to hours depending on the signal, so no spectral convergence "
            "is available for it in this run. docs/experiments/vocoder.md lists the comparisons that did finish.",
            "",
        ]
    write_text_atomic(args.out, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
