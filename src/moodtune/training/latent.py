"""Train the latent engine: ``moodtune train latent --data DIR (--vae RUN | --encodec DIR) --out RUN``.

1. Every track is encoded once by the codec; the latent sequences are cached through the
   :class:`FeatureCache` (``cache/codec-<kind>-<hash>/``), and a labels table (one row per
   ``clip_seconds`` clip: track, first frame, split, valence, arousal, style) is written beside them.
2. An emotional VAE learns the clips' latent sequences conditioned on valence/arousal and style
   (squared error on standardised latents + beta * KL); Lightning checkpoints, CSV metrics.
3. Afterwards: a mood-conditional prior, held-out scores (latent MSE; MR-STFT of codec-only and
   VAE reconstructions), reconstruction WAVs, training curves, a latent-space plot, and one generated
   clip per quadrant mood drawn side by side.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader, Dataset

from moodtune.audio.io import write_wav
from moodtune.data.manifest import read_manifest
from moodtune.data.torch_datasets import style_vocabulary
from moodtune.data.tracks import Track, feature_folder, load_tracks
from moodtune.engines.checkpoint import read_checkpoint_config, save_checkpoint
from moodtune.engines.codecs import CodecLatentFeature, open_codec
from moodtune.engines.latent import LatentEngine
from moodtune.errors import MoodtuneError
from moodtune.evaluation.reconstruction import multi_resolution_stft_distance
from moodtune.fsutil import atomic_path, write_json_atomic
from moodtune.models.conditioning import request_labels
from moodtune.models.latent_vae import LatentVAE, LatentVAEConfig
from moodtune.training.trainer import check_run_folder, fit, loaders, resumed_config, write_training_plots
from moodtune.training.vae_module import VAEModule, fit_latent_prior
from moodtune.viz.plots import plot_latent_map


@dataclass
class LatentTrainConfig:
    """Everything a latent training run depends on (saved in the run)."""

    data: str
    out: str
    codec: dict[str, Any] = field(default_factory=dict)
    clip_seconds: float = 5.0
    latent_dim: int = 32
    epochs: int = 100
    max_minutes: float | None = None
    size: str = "small"
    batch_size: int = 32
    lr: float = 1e-3
    beta: float = 0.1
    kl_warmup_steps: int = 200
    accelerator: str = "auto"
    devices: int = 1
    seed: int = 0


def clip_table(tracks: list[Track], frames: int, frame_rate: float) -> tuple[pd.DataFrame, int]:
    """One row per non-overlapping ``frames``-long clip of each track; also how many tracks were too short."""
    rows, short = [], 0
    for i, t in enumerate(tracks):
        n = t.feature.shape[1] // frames
        short += n == 0
        for k in range(n):
            mood = t.mood_at((k + 0.5) * frames / frame_rate)
            rows.append(
                {
                    "track": i,
                    "path": t.path,
                    "split": t.split,
                    "frame": k * frames,
                    "valence": float(mood[0]),
                    "arousal": float(mood[1]),
                    "known": float(mood[2]),
                    "style": t.style,
                }
            )
    return pd.DataFrame(rows), short


class LatentClips(Dataset):
    """Items ``x [codec_dim, frames]``, ``mood [3]``, ``style`` from the rows of a clip table."""

    random_offset = False  # the clips are fixed; :func:`fit_latent_prior` reads this flag

    def __init__(self, tracks: list[Track], table: pd.DataFrame, frames: int) -> None:
        if table.empty:
            raise MoodtuneError("no latent clips to train on (are the tracks shorter than --clip-seconds?)")
        self.tracks, self.rows, self.frames = tracks, table.to_dict("records"), frames

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        r = self.rows[i]
        x = self.tracks[r["track"]].feature[:, r["frame"] : r["frame"] + self.frames]
        return {
            "x": torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32)),
            "mood": torch.tensor([r["valence"], r["arousal"], r["known"]], dtype=torch.float32),
            "style": torch.tensor(r["style"]),
        }


class LatentVAEModule(VAEModule):
    """Squared error on standardised codec latents + beta * KL; also logs the mean squared error."""

    def __init__(
        self, model_config: dict[str, Any], lr: float = 1e-3, beta: float = 0.1, kl_warmup_steps: int = 200
    ) -> None:
        super().__init__(LatentVAE(LatentVAEConfig.from_dict(model_config)), lr, beta, kl_warmup_steps)
        self.save_hyperparameters()

    def target(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.standardise(x)

    def extra_metrics(self, x: torch.Tensor, recon: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"mse": torch.nn.functional.mse_loss(recon, x)}


def train_latent(cfg: LatentTrainConfig, resume: bool = False, progress: bool = True) -> dict[str, Any]:
    """Train, export ``model.safetensors`` (VAE + prior + codec weights when it has its own) + ``config.json``."""
    t0 = time.perf_counter()
    out = Path(cfg.out)
    resume_from = check_run_folder(out, resume)
    cfg = resumed_config(out, cfg, resume)
    if cfg.clip_seconds <= 0 or cfg.latent_dim < 1 or cfg.batch_size < 1:
        raise MoodtuneError("--clip-seconds, --latent-dim and --batch-size must be positive")
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    codec = open_codec(cfg.codec)
    manifest = read_manifest(cfg.data)
    styles = style_vocabulary(manifest)
    feature = CodecLatentFeature(codec)
    tracks = load_tracks(cfg.data, feature, styles, manifest=manifest, progress=progress)
    frames = codec.frames(cfg.clip_seconds)
    table, short = clip_table(tracks, frames, codec.frame_rate)
    labels_file = feature_folder(cfg.data, feature) / f"labels-{cfg.clip_seconds:g}s.parquet"
    with atomic_path(labels_file) as tmp:
        table.to_parquet(tmp, index=False)
    splits = {s: table[table["split"] == s] for s in ("train", "val", "test")}
    train_ds = LatentClips(tracks, splits["train"], frames)
    val_ds = LatentClips(tracks, splits["val"] if not splits["val"].empty else splits["train"], frames)
    model_config = LatentVAEConfig.preset(
        cfg.size, codec_dim=codec.dim, frames=frames, latent_dim=cfg.latent_dim, n_styles=len(styles)
    )
    module = LatentVAEModule(model_config.to_dict(), cfg.lr, cfg.beta, cfg.kl_warmup_steps)
    train_x = torch.stack([train_ds[i]["x"] for i in range(len(train_ds))])  # [N, D, F]
    module.model.set_normalisation(train_x.mean(dim=(0, 2)), train_x.std(dim=(0, 2)))
    train_loader, val_loader = loaders(train_ds, val_ds, cfg.batch_size, cfg.seed)
    out.mkdir(parents=True, exist_ok=True)
    run_config = {
        "engine": "latent",
        "train": asdict(cfg),
        "model": model_config.to_dict(),
        "styles": styles,
        "codec": codec.spec(),
        "clip_seconds": cfg.clip_seconds,
    }
    if codec.kind == "spectrogram":
        run_config["codec_config"] = read_checkpoint_config(cfg.codec["path"])
    write_json_atomic(out / "train_config.json", run_config)
    model, fitted = fit(module, out, cfg, train_loader, val_loader, resume_from, progress, t0)
    engine = LatentEngine(model, codec, styles, cfg.clip_seconds, fit_latent_prior(model, train_ds))
    results: dict[str, Any] = {
        "codec": codec.kind,
        **fitted,
        "train_clips": len(train_ds),
        "tracks_too_short": int(short),
        "codec_frames_per_clip": frames,
        "labels_table": str(labels_file),
    }
    held = splits["test"] if not splits["test"].empty else splits["val"]
    results.update(heldout_scores(engine, tracks, held, frames, out))
    save_checkpoint(out, "latent", engine.state_dict(), {**run_config, "data": str(cfg.data), "results": results})
    write_training_plots(out)
    from moodtune.api import write_mood_samples

    write_mood_samples(engine, out / "plots", cfg.clip_seconds * 2, wav=False)
    return results


@torch.no_grad()
def heldout_scores(
    engine: LatentEngine, tracks: list[Track], held: pd.DataFrame, frames: int, out: Path, audio_clips: int = 8
) -> dict[str, Any]:
    """Latent MSE on held-out clips, MR-STFT of codec-only vs VAE reconstructions, WAVs and a latent map."""
    from moodtune.audio.io import load_audio

    if held.empty:
        return {}
    ds = LatentClips(tracks, held, frames)
    batch = next(iter(DataLoader(ds, batch_size=len(ds))))
    model = engine.model
    mu, _ = model.encode(batch["x"], batch["mood"], batch["style"])
    rec = model.decode_standardised(mu, batch["mood"], batch["style"])
    mse = float(torch.nn.functional.mse_loss(rec, model.standardise(batch["x"])))
    plot_latent_map(
        mu.numpy(),
        held["valence"].to_numpy(),
        held["arousal"].to_numpy(),
        [engine.styles[s] for s in held["style"]],
        out / "plots" / "latent_map.png",
    )
    codec_scores, vae_scores = [], []
    seconds = engine.clip_seconds
    for i, r in enumerate(held.head(audio_clips).to_dict("records")):
        start = r["frame"] / engine.codec.frame_rate
        audio, sr = load_audio(r["path"], sr=engine.sr, start_s=start, end_s=start + seconds, check_silence=False)
        codec_only = engine.codec_roundtrip(audio)
        mood = (r["valence"], r["arousal"], r["known"])
        through = engine.reconstruct_audio(audio, **request_labels(mood, r["style"], engine.styles))
        codec_scores.append(multi_resolution_stft_distance(audio, codec_only)["log_magnitude_l1"])
        vae_scores.append(multi_resolution_stft_distance(audio, through)["log_magnitude_l1"])
        if i < 2:
            folder = out / "samples" / "reconstruction"
            for name, x in (("original", audio), ("codec", codec_only), ("vae", through)):
                write_wav(folder / f"clip{i}_{name}.wav", x, sr)
    return {
        "heldout_clips": len(ds),
        "heldout_latent_mse": round(mse, 4),
        "heldout_codec_mrstft_logmag": round(float(np.mean(codec_scores)), 4),
        "heldout_vae_mrstft_logmag": round(float(np.mean(vae_scores)), 4),
    }
