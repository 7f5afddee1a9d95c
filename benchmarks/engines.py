"""Per-engine speed and memory: training throughput and achieved GFLOP/s (against a dense matmul peak
measured in the same run), generation real-time factor at 30 s, and peak memory.

Each measurement runs in a fresh spawned process, so its peak resident memory (``VmHWM``) is its own.
Engines load from trained run folders when they exist (``--runs``, e.g. the demo's), else from freshly
initialised models of the same size: speed does not depend on the weights, except the symbolic engine,
whose time depends on how many tokens a second of music takes. On a GPU, training is measured in float32 and
in bfloat16 autocast (``bf16-mixed``); both are compared with the float32 matmul peak.
"""

from __future__ import annotations

import contextlib
import itertools
import multiprocessing as mp
import resource
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

GENERATE_SECONDS = 30.0
BATCH = {"spectrogram": 32, "symbolic": 64, "waveform": 16, "latent": 32}


def matmul_peak_gflops(device: str = "cpu", n: int = 2048, repeat: int = 5) -> float:
    """Dense float32 matmul rate ``2 n^3 / t`` in GFLOP/s: the machine's practical peak."""
    a, b = torch.rand(n, n, device=device), torch.rand(n, n, device=device)
    best = float("inf")
    for _ in range(repeat + 1):
        _sync(device)
        t = time.perf_counter()
        a @ b
        _sync(device)
        best = min(best, time.perf_counter() - t)
    return 2 * n**3 / best / 1e9


def _sync(device: str) -> None:
    if device.startswith("cuda"):
        torch.cuda.synchronize()


def lstm_forward_flops(model: torch.nn.Module, batch: int, steps: int) -> int:
    """Multiply-adds x 2 of every ``nn.LSTM`` in ``model`` for a forward pass (FlopCounterMode skips them)."""
    total = 0
    for m in model.modules():
        if isinstance(m, torch.nn.LSTM):
            dirs = 2 if m.bidirectional else 1
            for layer in range(m.num_layers):
                inp = m.input_size if layer == 0 else m.hidden_size * dirs
                total += dirs * 2 * 4 * (inp + m.hidden_size) * m.hidden_size * steps * batch
    return total


def _timed_steps(step: Callable[[], None], device: str, repeat: int) -> float:
    step()  # warm-up
    best = float("inf")
    for _ in range(repeat):
        _sync(device)
        t = time.perf_counter()
        step()
        _sync(device)
        best = min(best, time.perf_counter() - t)
    return best


def autocast(device: str, precision: str) -> contextlib.AbstractContextManager[Any]:
    """The forward pass's arithmetic: ``32`` (float32) or ``bf16-mixed`` (bfloat16 autocast, as Lightning runs it)."""
    if precision == "32":
        return contextlib.nullcontext()
    return torch.autocast(device_type=device.split(":")[0], dtype=torch.bfloat16)


def _training_figures(
    model: torch.nn.Module, step: Callable[[], None], batch: int, steps: int, device: str, precision: str = "32"
) -> dict[str, Any]:
    """Samples/s and achieved GFLOP/s of one optimiser step; training is taken as 3x the forward LSTM cost."""

    def run() -> None:
        with autocast(device, precision):
            step()

    with FlopCounterMode(display=False) as counter:
        run()
    flops = counter.get_total_flops() + 3 * lstm_forward_flops(model, batch, steps)
    seconds = _timed_steps(run, device, 8)  # best of 8: single steps on a shared machine vary by 3x
    return {"samples_per_s": batch / seconds, "gflops": flops / seconds / 1e9, "step_s": seconds}


def train_spectrogram(device: str, size: str, precision: str = "32") -> dict[str, Any]:
    from moodtune.models.spectrogram_vae import SpectrogramVAE, SpectrogramVAEConfig
    from moodtune.training.vae_module import vae_losses

    batch = 32
    x = torch.rand(batch, 1, 128, 128, device=device)
    mood, style = torch.rand(batch, 3, device=device), torch.zeros(batch, dtype=torch.long, device=device)
    model = SpectrogramVAE(SpectrogramVAEConfig.preset(size, n_styles=6)).to(device)
    opt = torch.optim.Adam(model.parameters())

    def step() -> None:
        opt.zero_grad()
        recon, mu, logvar = model(x, mood, style)
        rec, kl = vae_losses(x, recon, mu, logvar)
        (rec + kl).backward()
        opt.step()

    return {**_training_figures(model, step, batch, 1, device, precision), "unit": "slices"}


def train_symbolic(device: str, size: str, precision: str = "32") -> dict[str, Any]:
    import torch.nn.functional as F

    from moodtune.midi.tokens import TimedTokenizer
    from moodtune.models.symbolic_lstm import SymbolicLSTM, SymbolicLSTMConfig

    batch, steps = 64, 40
    vocab = len(TimedTokenizer().vocabulary)
    model = SymbolicLSTM(SymbolicLSTMConfig.preset(size, vocab_size=vocab, n_styles=6)).to(device)
    tokens = torch.randint(0, vocab, (batch, steps + 1), device=device)
    mood = torch.rand(batch, steps, 3, device=device)
    style = torch.zeros(batch, dtype=torch.long, device=device)
    opt = torch.optim.Adamax(model.parameters())

    def step() -> None:
        opt.zero_grad()
        logits = model(tokens[:, :-1], mood, style)
        F.cross_entropy(logits.reshape(-1, vocab), tokens[:, 1:].reshape(-1)).backward()
        opt.step()

    return {**_training_figures(model, step, batch, steps, device, precision), "unit": "sequences of 40 tokens"}


def train_waveform(device: str, size: str, precision: str = "32") -> dict[str, Any]:
    from moodtune.audio.distances import multi_resolution_stft_loss, stft_fft_sizes
    from moodtune.models.waveform_vae import WaveformVAE, WaveformVAEConfig
    from moodtune.training.vae_module import kl_divergence

    batch = BATCH["waveform"]
    config = WaveformVAEConfig.preset(size, n_styles=6)  # the training defaults: 8 kHz, 1 s, additive decoder
    x = (torch.rand(batch, 1, config.samples, device=device) - 0.5) * 0.2
    mood, style = torch.rand(batch, 3, device=device), torch.zeros(batch, dtype=torch.long, device=device)
    model = WaveformVAE(config).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sizes = stft_fft_sizes(config.sr)

    def step() -> None:
        opt.zero_grad()
        recon, mu, logvar = model(x, mood, style)
        spectral = 0.01 * config.samples * multi_resolution_stft_loss(x, recon, sizes)
        (spectral + 0.1 * kl_divergence(mu, logvar)).backward()
        opt.step()

    return {**_training_figures(model, step, batch, 1, device, precision), "unit": "windows (1 s at 8 kHz)"}


def train_latent(device: str, size: str, precision: str = "32") -> dict[str, Any]:
    from moodtune.models.latent_vae import LatentVAE, LatentVAEConfig
    from moodtune.training.vae_module import vae_losses

    batch = 32
    config = LatentVAEConfig.preset(size, codec_dim=128, frames=375, n_styles=6)  # 5 s of EnCodec 24 kHz latents
    x = torch.randn(batch, config.codec_dim, config.frames, device=device)
    mood, style = torch.rand(batch, 3, device=device), torch.zeros(batch, dtype=torch.long, device=device)
    model = LatentVAE(config).to(device)
    opt = torch.optim.Adam(model.parameters())

    def step() -> None:
        opt.zero_grad()
        recon, mu, logvar = model(x, mood, style)
        rec, kl = vae_losses(model.standardise(x), recon, mu, logvar)
        (rec + 0.1 * kl).backward()
        opt.step()

    return {**_training_figures(model, step, batch, 1, device, precision), "unit": "latent clips (5 s, EnCodec-sized)"}


def _untrained_spectrogram(size: str, device: str) -> Any:
    from moodtune.audio.features import MelConfig
    from moodtune.engines.spectrogram import SpectrogramEngine
    from moodtune.models.spectrogram_vae import SpectrogramVAE, SpectrogramVAEConfig

    model = SpectrogramVAE(SpectrogramVAEConfig.preset(size, n_styles=1))
    return SpectrogramEngine(model, MelConfig(), ["<unknown>"], device)


def _shown(path: Path) -> str:
    """``path`` as the docs write it: relative to the repository when inside it (no machine's paths)."""
    root = Path(__file__).resolve().parents[1]
    try:
        return path.resolve().relative_to(root).as_posix()
    except ValueError:
        return path.name


def _engine(kind: str, runs: str | None, size: str, device: str) -> tuple[Any, str]:
    """A trained engine from ``runs/kind`` when there is one, else a freshly initialised one."""
    from moodtune.engines.base import load_engine

    if runs and (Path(runs) / kind / "model.safetensors").is_file():
        return load_engine(Path(runs) / kind, device), f"trained ({_shown(Path(runs) / kind)})"
    if kind == "spectrogram":
        return _untrained_spectrogram(size, device), f"untrained {size}"
    if kind == "sequence":
        from moodtune.engines.sequence import SequenceEngine
        from moodtune.models.sequence import LatentSequenceModel, SequenceModelConfig

        vae = _untrained_spectrogram(size, device)
        dim = vae.model.config.latent_dim
        model = LatentSequenceModel(SequenceModelConfig.preset(size, latent_dim=dim, n_styles=1))
        return SequenceEngine(model, vae, torch.zeros(dim), torch.ones(dim), ["<unknown>"], device), f"untrained {size}"
    if kind == "waveform":
        from moodtune.engines.waveform import WaveformEngine
        from moodtune.models.waveform_vae import WaveformVAE, WaveformVAEConfig

        config = WaveformVAEConfig.preset(size)
        return WaveformEngine(WaveformVAE(config), ["<unknown>"], device=device), f"untrained {size}, 8 kHz"
    if kind == "latent":
        from moodtune.engines.codecs import SpectrogramCodec
        from moodtune.engines.latent import LatentEngine
        from moodtune.models.latent_vae import LatentVAE, LatentVAEConfig

        codec = SpectrogramCodec(_untrained_spectrogram(size, device))
        model = LatentVAE(LatentVAEConfig.preset(size, codec_dim=codec.dim, frames=codec.frames(5.0)))
        return LatentEngine(model, codec, ["<unknown>"], 5.0, device=device), f"untrained {size}, spectrogram codec"
    if kind == "symbolic":
        from moodtune.engines.symbolic import SymbolicEngine
        from moodtune.midi.tokens import TimedTokenizer
        from moodtune.models.symbolic_lstm import SymbolicLSTM, SymbolicLSTMConfig

        tok = TimedTokenizer()
        model = SymbolicLSTM(SymbolicLSTMConfig.preset(size, vocab_size=len(tok.vocabulary)))
        return SymbolicEngine(model, tok, ["<unknown>"], device=device), f"untrained {size}"
    raise ValueError(kind)


#: The moods generation is timed in: a lively mood writes more notes (and the symbolic engine more tokens).
GENERATE_MOODS = ("calm", "happy", "angry", "sad")


def generate(device: str, kind: str, runs: str | None, size: str) -> dict[str, Any]:
    """Seconds to generate ``GENERATE_SECONDS`` of each mood in ``GENERATE_MOODS`` (best of 2 seeds after a
    warm-up); ``seconds`` is the slowest mood's."""
    from moodtune.engines.base import Request
    from moodtune.mood import Mood

    engine, origin = _engine(kind, runs, size, device)
    engine.generate(Request(mood=Mood.named("calm"), seconds=GENERATE_SECONDS, seed=0))  # warm-up
    per_mood: dict[str, float] = {}
    for mood in GENERATE_MOODS:
        best = float("inf")
        for seed in (1, 2):
            _sync(device)
            t = time.perf_counter()
            result = engine.generate(Request(mood=Mood.named(mood), seconds=GENERATE_SECONDS, seed=seed))
            _sync(device)
            best = min(best, time.perf_counter() - t)
        per_mood[mood] = best
    slowest = max(per_mood.values())
    seconds = len(result.audio) / result.sr
    return {
        "seconds": slowest,
        "per_mood": per_mood,
        "audio_seconds": seconds,
        "rtf": seconds / slowest,
        "origin": origin,
    }


#: Tokens that 30 s of music took the Transformer with beat tokens (docs/experiments/symbolic-tokens.md).
DECODE_TOKENS = 1400


def decode_symbolic(device: str, arch: str, decoder: str, size: str = "small") -> dict[str, Any]:
    """Next-token rate of an untrained symbolic network over ``DECODE_TOKENS`` tokens (the rate does not depend on
    the weights, unlike the tokens a second of music takes): ``decoder`` is ``fast`` (what generation uses: a
    key/value cache for the Transformer, a carried state for the LSTM) or ``window`` (the whole window read
    afresh at every token)."""
    from moodtune.midi.tokens import BeatTokenizer
    from moodtune.models.symbolic import WindowDecoder, decoder_for, symbolic_config, symbolic_model

    vocab = len(BeatTokenizer().vocabulary)
    model = symbolic_model(symbolic_config(arch, size, vocab_size=vocab)).to(device).eval()
    style = torch.zeros(1, dtype=torch.long, device=device)
    gen = torch.Generator().manual_seed(0)
    best = float("inf")
    for _ in range(2):
        run = decoder_for(model) if decoder == "fast" else WindowDecoder(model)
        ids, moods = [0], [[0.5, -0.5, 1.0]]
        _sync(device)
        t = time.perf_counter()
        with torch.no_grad():
            while len(ids) < DECODE_TOKENS:
                logits = run.next_logits(ids, moods, style)
                ids.append(int(torch.multinomial(torch.softmax(logits, -1), 1, generator=gen)))
                moods.append(moods[-1])
        _sync(device)
        best = min(best, time.perf_counter() - t)
    return {"seconds": best, "tokens": DECODE_TOKENS, "context": model.config.seq_len}


TASKS: dict[str, Callable[..., dict[str, Any]]] = {
    "decode_symbolic": decode_symbolic,
    "train_spectrogram": train_spectrogram,
    "train_symbolic": train_symbolic,
    "train_waveform": train_waveform,
    "train_latent": train_latent,
    "generate": generate,
}


def peak_rss_mb() -> float:
    """This process's peak resident memory in MB.

    Linux's ``VmHWM`` belongs to the current address space, so it starts afresh at exec; ``ru_maxrss``
    would carry over the parent's peak into a spawned child (it survives fork + exec).
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _child(task: str, kwargs: dict[str, Any], threads: int, queue: mp.Queue) -> None:
    torch.set_num_threads(threads)
    try:
        out = TASKS[task](**kwargs)
        if kwargs.get("device", "cpu").startswith("cuda"):
            out["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
        out["peak_rss_mb"] = peak_rss_mb()
        queue.put(out)
    except Exception as exc:  # reported in the table, not fatal to the benchmark
        queue.put({"error": f"{type(exc).__name__}: {exc}"})


def run_isolated(task: str, threads: int, **kwargs: Any) -> dict[str, Any]:
    """Run one task in a fresh spawned process; returns its figures plus its peak memory."""
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(task, kwargs, threads, queue))
    proc.start()
    out = queue.get()
    proc.join()
    return out


def _memory(r: dict[str, Any]) -> str:
    text = f"peak RSS {r['peak_rss_mb']:.0f} MB"
    return text + (f", peak GPU {r['peak_gpu_mb']:.0f} MB" if "peak_gpu_mb" in r else "")


def _row(
    label: str, r: dict[str, Any], suffix: Callable[[dict[str, Any]], str], value: Callable[[dict[str, Any]], str]
) -> tuple[str, str]:
    """A row of docs/benchmarks.md: the failure under ``label``, or ``label + suffix(r)`` and ``value(r)``."""
    if "error" in r:
        return label, f"failed: {r['error']}"
    return label + suffix(r), value(r)


def bench_engines(runs: str | None, devices: list[str]) -> list[tuple[str, str]]:
    """Rows for docs/benchmarks.md."""
    rows: list[tuple[str, str]] = []
    threads = torch.get_num_threads()
    for device in devices:
        peak = matmul_peak_gflops(device)
        rows.append((f"[{device}] dense float32 matmul 2048x2048 (peak reference)", f"{peak:.1f} GFLOP/s"))
        precisions = ("32", "bf16-mixed") if device.startswith("cuda") else ("32",)
        for (task, size), precision in itertools.product(
            (
                ("train_spectrogram", "small"),
                ("train_spectrogram", "base"),
                ("train_symbolic", "small"),
                ("train_waveform", "small"),
                ("train_latent", "small"),
            ),
            precisions,
        ):
            engine = task.removeprefix("train_")
            label = f"[{device}] {engine} ({size}) training" + (f", {precision}" if len(precisions) > 1 else "")
            r = run_isolated(task, threads, device=device, size=size, precision=precision)
            rows.append(
                _row(
                    label,
                    r,
                    lambda r, engine=engine: f", batch {BATCH[engine]}",
                    lambda r, peak=peak: (
                        f"{r['samples_per_s']:.0f} {r['unit']}/s, {r['gflops']:.1f} GFLOP/s "
                        f"(**{100 * r['gflops'] / peak:.0f}%** of the matmul peak), {_memory(r)}"
                    ),
                )
            )
        for arch, decoder in itertools.product(("lstm", "transformer"), ("window", "fast")):
            r = run_isolated("decode_symbolic", threads, device=device, arch=arch, decoder=decoder)
            fast = "key/value cache" if arch == "transformer" else "carried state"
            how = fast if decoder == "fast" else "window read afresh per token"
            rows.append(
                _row(
                    f"[{device}] symbolic {arch} (small, untrained) sampling, {how}",
                    r,
                    lambda r: f", {r['context']}-token context",
                    lambda r: (
                        f"{r['tokens'] / r['seconds']:.0f} tokens/s: {r['tokens']} tokens (30 s of beat-token "
                        f"music) in **{r['seconds']:.2f} s**, {_memory(r)}"
                    ),
                )
            )
        for kind in ("spectrogram", "symbolic", "sequence", "waveform", "latent"):
            r = run_isolated("generate", threads, device=device, kind=kind, runs=runs, size="small")
            rows.append(
                _row(
                    f"[{device}] {kind} engine generation",
                    r,
                    lambda r: f" of {GENERATE_SECONDS:g} s ({r['origin']})",
                    lambda r: (
                        f"slowest mood **{r['seconds']:.2f} s** ("
                        + ", ".join(f"{m} {s:.2f}" for m, s in r["per_mood"].items())
                        + f"), real-time factor **{r['rtf']:.0f}x**, {_memory(r)}"
                    ),
                )
            )
    return rows
