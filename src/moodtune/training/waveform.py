"""Train the waveform engine: ``moodtune train waveform``.

Each track of the prepared dataset is cached once at the model's sample rate; an item is a window of
``samples`` from a random offset (training) or from the start (validation), zero-padded when the track
is shorter, labelled with the mood of the clip under its centre. With the default additive decoder the
reconstruction loss is a multi-resolution STFT distance (its oscillators' phases are fixed, so only
magnitudes can match); with the ``conv`` decoder it is squared error (the plain ELBO) plus, by default,
the STFT term, so that decoder is pushed towards the right spectrum rather than the phase-averaged
(muffled) waveform that squared error alone favours. After training the engine gets the mood prior
(training posteriors weighted by mood) and the level correction (the level the decoder loses, as a
function of mood). After every epoch a 4 x 4 grid of generated waveforms (rows: happy, angry, sad, calm)
is drawn, and ``plots/training.gif`` strings the grids together.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import lightning as L
import numpy as np
import torch
from torch import nn
from torch.utils.data import Dataset

from moodtune.audio.distances import multi_resolution_stft_loss, stft_fft_sizes
from moodtune.audio.features import rms_db
from moodtune.data.manifest import read_audio_manifest
from moodtune.data.torch_datasets import style_vocabulary
from moodtune.data.tracks import Track, WaveformFeature, load_tracks
from moodtune.engines.waveform import WaveformEngine
from moodtune.errors import MoodtuneError
from moodtune.models.waveform_vae import DECODERS, WaveformVAE, WaveformVAEConfig
from moodtune.mood import QUADRANT_MOODS, Mood
from moodtune.training.config import VAETrainConfig, option
from moodtune.training.heldout import heldout_reconstruction
from moodtune.training.recipe import Finished, Recipe, Setup
from moodtune.training.vae_module import VAEModule, fit_prior_and_level
from moodtune.viz.plots import frames_to_gif, plot_waveform_grid


@dataclass(kw_only=True)
class WaveformTrainConfig(VAETrainConfig):
    """Everything a waveform training run depends on (saved in the run)."""

    engine: ClassVar[str] = "waveform"

    sr: int = option(8000, help="audio rate of the model in Hz", flag="--sample-rate", positive=True)
    seconds: float = option(1.0, help="window length in seconds", flag="--clip-seconds", positive=True)
    batch_size: int = option(16, help="examples per batch", positive=True)
    decoder: str = option(
        "additive",
        help="additive: amplitudes of a semitone oscillator bank (learns in minutes on a CPU); "
        "conv: upsampling convolutions to samples",
        choices=DECODERS,
    )
    spectral_weight: float = option(
        0.01,
        help="weight of the multi-resolution STFT term per sample (the whole reconstruction loss of the additive "
        "decoder); 0 gives the conv decoder the plain ELBO",
        minimum=0.0,
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.decoder == "additive" and self.spectral_weight <= 0:
            raise MoodtuneError("--spectral-weight must be positive with the additive decoder: it is its only loss")


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


class WaveformVAEModule(VAEModule):
    """Squared error (+ ``spectral_weight`` x samples x MR-STFT) + beta * KL; Adam. With the additive decoder
    the reconstruction loss is the MR-STFT term alone: its oscillator phases are fixed, so only magnitudes
    can match."""

    def __init__(self, model_config: WaveformVAEConfig, cfg: WaveformTrainConfig) -> None:
        super().__init__(WaveformVAE(model_config), cfg)
        self.spectral_weight = cfg.spectral_weight
        self.fft_sizes = stft_fft_sizes(model_config.sr)

    def reconstruction_terms(self, x: torch.Tensor, recon: torch.Tensor) -> dict[str, torch.Tensor]:
        terms = {} if self.model.config.decoder == "additive" else super().reconstruction_terms(x, recon)
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
        if trainer.sanity_checking or not trainer.is_global_zero or "FSDP" in type(trainer.strategy).__name__:
            return  # one grid, by the first process; FSDP's sharded weights cannot decode in one process
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


class WaveformRecipe(Recipe[WaveformTrainConfig]):
    """Hooks of the waveform family."""

    plot_keys = ("loss", "recon", "spectral", "kl")

    def setup(self, cfg: WaveformTrainConfig, progress: bool) -> Setup:
        manifest = read_audio_manifest(cfg.data, "the waveform engine")
        styles = style_vocabulary(manifest)
        try:
            model_config = WaveformVAEConfig.preset(
                cfg.size,
                sr=cfg.sr,
                seconds=cfg.seconds,
                latent_dim=cfg.latent_dim,
                n_styles=len(styles),
                decoder=cfg.decoder,
            )
        except ValueError as exc:
            raise MoodtuneError(str(exc)) from exc
        tracks = load_tracks(cfg.data, WaveformFeature(cfg.sr), styles, manifest=manifest, progress=progress)
        by_split = {s: [t for t in tracks if t.split == s] for s in ("train", "val")}
        samples = model_config.samples
        return Setup(
            module=WaveformVAEModule(model_config, cfg),
            train=AudioWindows(by_split["train"], samples, cfg.sr, random_offset=True),
            val=AudioWindows(by_split["val"] or by_split["train"], samples, cfg.sr, random_offset=False),
            run_config={"model": model_config.to_dict(), "styles": styles},
            callbacks=[WaveformGrid(Path(cfg.out) / "plots" / "epochs", cfg.seed)],
            context={"manifest": manifest, "styles": styles},
        )

    def finish(self, cfg: WaveformTrainConfig, setup: Setup, model: nn.Module, out: Path) -> Finished:
        styles = setup.context["styles"]
        prior, level = fit_prior_and_level(model, setup.train, rms_db, batch_size=cfg.batch_size)
        engine = WaveformEngine(model, styles, prior=prior, level=level)
        metrics: dict[str, Any] = {"train_windows": len(setup.train)}
        metrics.update(
            heldout_reconstruction(engine, setup.context["manifest"], styles, out / "plots" / "reconstruction.png")
        )
        gif = frames_to_gif(sorted((out / "plots" / "epochs").glob("epoch_*.png")), out / "plots" / "training.gif")
        if gif is not None:
            metrics["training_gif"] = str(gif)
        return Finished(engine.state_dict(), metrics)
