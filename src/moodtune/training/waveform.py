"""Train the waveform engine: ``moodtune train waveform``.

Each track of the prepared dataset is cached once at the model's sample rate; an item is a window of
``samples`` from a random offset (training) or from the start (validation), zero-padded when the track
is shorter, labelled with the mood of the clip under its centre. The loss is squared error + beta * KL
(the seed's ELBO) plus, by default, a multi-resolution STFT term so the decoder is pushed towards the
right spectrum rather than the phase-averaged (muffled) waveform that squared error alone favours.
After every epoch a 4 x 4 grid of generated waveforms (rows: happy, angry, sad, calm) is drawn, and
``plots/training.gif`` strings the grids together.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import torch
from torch.utils.data import Dataset

from moodtune.data.manifest import read_manifest
from moodtune.data.torch_datasets import style_vocabulary
from moodtune.data.tracks import Track, WaveformFeature, load_tracks
from moodtune.engines.checkpoint import save_checkpoint
from moodtune.engines.waveform import WaveformEngine
from moodtune.errors import MoodtuneError
from moodtune.evaluation.reconstruction import multi_resolution_stft_distance
from moodtune.fsutil import write_json_atomic
from moodtune.models.conditioning import request_labels
from moodtune.models.waveform_vae import WaveformVAE, WaveformVAEConfig
from moodtune.mood import QUADRANT_MOODS, Mood
from moodtune.training.trainer import check_run_folder, fit, loaders, resumed_config, write_training_plots
from moodtune.training.vae_module import VAEModule, fit_latent_prior
from moodtune.viz.plots import frames_to_gif, plot_waveform_grid


@dataclass
class WaveformTrainConfig:
    """Everything a waveform training run depends on (saved in the run)."""

    data: str
    out: str
    sr: int = 3000
    seconds: float = 30.0
    latent_dim: int = 2
    epochs: int = 30
    max_minutes: float | None = None
    size: str = "small"
    batch_size: int = 8
    lr: float = 3e-4
    beta: float = 1.0
    kl_warmup_steps: int = 200
    spectral_weight: float = 0.01
    accelerator: str = "auto"
    devices: int = 1
    seed: int = 0
    limit_train_batches: int | None = None
    limit_val_batches: int | None = None


class AudioWindows(Dataset):
    """Windows ``x [1, samples]`` of cached tracks with ``mood [3]`` and ``style``; one item per window length."""

    def __init__(self, tracks: list[Track], samples: int, sr: int, random_offset: bool) -> None:
        if not tracks:
            raise MoodtuneError("no tracks to train on")
        self.tracks, self.samples, self.sr, self.random_offset = tracks, samples, sr, random_offset
        self.items = [(i, k) for i, t in enumerate(tracks) for k in range(max(1, len(t.feature) // samples))]

    def __len__(self) -> int:
        return len(self.items)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        t, k = self.items[i]
        track = self.tracks[t]
        spare = max(0, len(track.feature) - self.samples)
        start = int(np.random.randint(0, spare + 1)) if self.random_offset else min(k * self.samples, spare)
        x = track.feature[start : start + self.samples].astype(np.float32)
        x = np.pad(x, (0, self.samples - len(x)))
        centre = (start + min(self.samples, len(track.feature) - start) / 2) / self.sr
        return {
            "x": torch.from_numpy(x).unsqueeze(0),
            "mood": torch.from_numpy(track.mood_at(centre)),
            "style": torch.tensor(track.style),
        }


def stft_fft_sizes(sr: int) -> tuple[int, ...]:
    """FFT sizes near 16, 64 and 256 ms at ``sr`` (powers of two)."""
    return tuple(2 ** round(math.log2(sr * s)) for s in (0.016, 0.064, 0.256))


def multi_resolution_stft_loss(x: torch.Tensor, y: torch.Tensor, fft_sizes: tuple[int, ...]) -> torch.Tensor:
    """Spectral convergence + log-magnitude L1, averaged over resolutions: ``[B, 1, T]`` pairs -> scalar."""
    total = x.new_zeros(())
    a, b = x.flatten(1), y.flatten(1)
    for n_fft in fft_sizes:
        window = torch.hann_window(n_fft, device=x.device)
        ma, mb = (torch.stft(s, n_fft, n_fft // 4, window=window, return_complex=True).abs() for s in (a, b))
        sc = torch.linalg.norm(ma - mb, dim=(1, 2)) / torch.linalg.norm(ma, dim=(1, 2)).clamp_min(1e-7)
        total = total + sc.mean() + (torch.log(ma + 1e-5) - torch.log(mb + 1e-5)).abs().mean()
    return total / len(fft_sizes)


class WaveformVAEModule(VAEModule):
    """Squared error (+ ``spectral_weight`` x samples x MR-STFT) + beta * KL; Adam."""

    def __init__(
        self,
        model_config: dict[str, Any],
        lr: float = 3e-4,
        beta: float = 1.0,
        kl_warmup_steps: int = 200,
        spectral_weight: float = 0.01,
    ) -> None:
        config = WaveformVAEConfig.from_dict(model_config)
        super().__init__(WaveformVAE(config), lr, beta, kl_warmup_steps)
        self.save_hyperparameters()
        self.spectral_weight = spectral_weight
        self.fft_sizes = stft_fft_sizes(config.sr)

    def reconstruction_terms(self, x: torch.Tensor, recon: torch.Tensor) -> dict[str, torch.Tensor]:
        terms = super().reconstruction_terms(x, recon)
        if self.spectral_weight > 0:
            stft = multi_resolution_stft_loss(x, recon, self.fft_sizes)
            terms["spectral"] = self.spectral_weight * x.shape[-1] * stft
        return terms


class WaveformGrid(L.Callback):
    """After each validation epoch: a 4 x 4 grid of waveforms decoded from fixed latents, one mood per row."""

    def __init__(self, folder: Path, seed: int = 0) -> None:
        self.folder = folder
        self.seed = seed
        self.moods = [Mood.named(m) for m in QUADRANT_MOODS]

    def on_validation_epoch_end(self, trainer: L.Trainer, pl_module: L.LightningModule) -> None:
        if trainer.sanity_checking:
            return
        model = pl_module.model
        was_training = model.training
        model.eval()
        gen = torch.Generator().manual_seed(self.seed)
        z = torch.randn(16, model.config.latent_dim, generator=gen).to(pl_module.device)
        mood = torch.tensor([[m.valence, m.arousal, 1.0] for m in self.moods for _ in range(4)], device=z.device)
        with torch.no_grad():
            audio = model.decode(z, mood, torch.zeros(16, dtype=torch.long, device=z.device))[:, 0].cpu().numpy()
        model.train(was_training)
        plot_waveform_grid(
            audio.reshape(4, 4, -1),
            model.config.sr,
            [str(m) for m in QUADRANT_MOODS],
            self.folder / f"epoch_{trainer.current_epoch:04d}.png",
            f"waveform VAE, epoch {trainer.current_epoch}",
        )


def train_waveform(cfg: WaveformTrainConfig, resume: bool = False, progress: bool = True) -> dict[str, Any]:
    """Train, export ``model.safetensors`` + ``config.json`` into ``cfg.out``, write plots; returns the results."""
    t0 = time.perf_counter()
    out = Path(cfg.out)
    resume_from = check_run_folder(out, resume)
    cfg = resumed_config(out, cfg, resume)
    if cfg.epochs < 1 or cfg.batch_size < 1 or cfg.latent_dim < 1:
        raise MoodtuneError("--epochs, --batch-size and --latent-dim must be positive")
    try:
        model_config = WaveformVAEConfig.preset(cfg.size, sr=cfg.sr, seconds=cfg.seconds, latent_dim=cfg.latent_dim)
    except ValueError as exc:
        raise MoodtuneError(str(exc)) from exc
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    manifest = read_manifest(cfg.data)
    styles = style_vocabulary(manifest)
    model_config = WaveformVAEConfig.from_dict({**model_config.to_dict(), "n_styles": len(styles)})
    tracks = load_tracks(cfg.data, WaveformFeature(cfg.sr), styles, manifest=manifest, progress=progress)
    by_split = {s: [t for t in tracks if t.split == s] for s in ("train", "val", "test")}
    samples = model_config.samples
    train_ds = AudioWindows(by_split["train"], samples, cfg.sr, random_offset=True)
    val_ds = AudioWindows(by_split["val"] or by_split["train"], samples, cfg.sr, random_offset=False)
    train_loader, val_loader = loaders(train_ds, val_ds, cfg.batch_size, cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    run_config = {"engine": "waveform", "train": asdict(cfg), "model": model_config.to_dict(), "styles": styles}
    write_json_atomic(out / "train_config.json", run_config)
    module = WaveformVAEModule(model_config.to_dict(), cfg.lr, cfg.beta, cfg.kl_warmup_steps, cfg.spectral_weight)
    grid_dir = out / "plots" / "epochs"
    model, results = fit(
        module,
        out,
        cfg,
        train_loader,
        val_loader,
        resume_from,
        progress,
        t0,
        callbacks=[WaveformGrid(grid_dir, cfg.seed)],
        limit_train_batches=cfg.limit_train_batches,
        limit_val_batches=cfg.limit_val_batches,
    )
    results.update(
        {
            "train_windows": len(train_ds),
            "config": {"sr": cfg.sr, "seconds": cfg.seconds, "latent_dim": cfg.latent_dim, "size": cfg.size},
        }
    )
    engine = WaveformEngine(model, styles, prior=fit_latent_prior(model, train_ds, batch_size=cfg.batch_size))
    results.update(heldout_reconstruction(engine, by_split["test"] or by_split["val"], samples))
    save_checkpoint(out, "waveform", engine.state_dict(), {**run_config, "data": str(cfg.data), "results": results})
    write_training_plots(out)
    gif = frames_to_gif(sorted(grid_dir.glob("epoch_*.png")), out / "plots" / "training.gif")
    if gif is not None:
        results["training_gif"] = str(gif)
    return results


def heldout_reconstruction(
    engine: WaveformEngine, tracks: list[Track], samples: int, max_tracks: int = 32
) -> dict[str, Any]:
    """Multi-resolution STFT distance between held-out windows and their reconstructions."""
    scores = []
    for track in tracks[:max_tracks]:
        audio = track.feature[:samples].astype(np.float32)
        rec = engine.reconstruct_audio(audio, **request_labels(track.mood_at(0.0), track.style, engine.styles))
        scores.append(list(multi_resolution_stft_distance(audio, rec, stft_fft_sizes(engine.sr)).values()))
    if not scores:
        return {}
    sc, logmag = np.mean(scores, axis=0)
    return {
        "heldout_tracks": len(scores),
        "heldout_mrstft_sc": round(float(sc), 4),
        "heldout_mrstft_logmag": round(float(logmag), 4),
    }
