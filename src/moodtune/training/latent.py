"""Train the latent engine: ``moodtune train latent --data DIR (--vae RUN | --encodec DIR) --out RUN``.

1. Every track is encoded once by the codec; the latent sequences are cached through the
   :class:`FeatureCache` (``cache/codec-<kind>-<hash>/``), and a labels table (one row per
   ``clip_seconds`` clip: track, first frame, split, valence, arousal, style) is written beside them.
2. An emotional VAE learns the clips' latent sequences conditioned on valence/arousal and style
   (squared error on standardised latents + beta * KL); Lightning checkpoints, CSV metrics.
3. Afterwards: a mood-conditional prior, a level correction of the whole chain (:func:`fit_output_level`),
   held-out scores (latent MSE; reconstruction through the VAE and
   through the codec alone), training curves, a latent-space plot, and one generated clip per quadrant
   mood drawn side by side.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset

from moodtune.audio.features import rms_db
from moodtune.audio.io import load_audio
from moodtune.data.manifest import read_audio_manifest
from moodtune.data.torch_datasets import style_vocabulary
from moodtune.data.tracks import Track, feature_folder, load_tracks
from moodtune.engines.base import mood_clips
from moodtune.engines.checkpoint import read_checkpoint_config
from moodtune.engines.codecs import CodecLatentFeature, open_codec
from moodtune.engines.latent import LatentEngine
from moodtune.errors import MoodtuneError
from moodtune.fsutil import atomic_path
from moodtune.models.latent_vae import LatentVAE, LatentVAEConfig
from moodtune.models.level import LevelCorrection
from moodtune.mood import QUADRANT_MOODS
from moodtune.training.config import VAETrainConfig, option
from moodtune.training.distributed import writes_run
from moodtune.training.heldout import heldout_reconstruction
from moodtune.training.recipe import Finished, Recipe, Setup
from moodtune.training.vae_module import VAEModule, fit_latent_prior
from moodtune.viz.plots import plot_latent_map, plot_waveforms


@dataclass(kw_only=True)
class LatentTrainConfig(VAETrainConfig):
    """Everything a latent training run depends on (saved in the run). The codec is either a spectrogram
    run (``vae``, offline) or EnCodec weights (``encodec``, a folder or a hub id)."""

    engine: ClassVar[str] = "latent"

    vae: str | None = option(None, help="codec: a spectrogram run whose VAE encodes the audio (works offline)")
    encodec: str | None = option(
        None, help="codec: EnCodec weights, a local folder or a hub id such as facebook/encodec_24khz"
    )
    bandwidth: float = option(6.0, help="EnCodec bandwidth in kbps (with --encodec)", positive=True)
    clip_seconds: float = option(5.0, help="length of the clips the VAE learns", positive=True)
    epochs: int = option(100, help="maximum number of epochs", positive=True)
    latent_dim: int = option(128, help="size of the latent space", positive=True)
    beta: float = option(0.01, help="KL weight after the warm-up", minimum=0.0)

    def __post_init__(self) -> None:
        super().__post_init__()
        if (self.vae is None) == (self.encodec is None):
            raise MoodtuneError(
                "train latent needs one codec: --vae RUN (a spectrogram run) or --encodec DIR_OR_HUB_ID"
            )

    def codec_spec(self) -> dict[str, Any]:
        """What :func:`open_codec` takes."""
        if self.encodec is not None:
            return {"kind": "encodec", "path": self.encodec, "bandwidth": self.bandwidth}
        return {"kind": "spectrogram", "path": self.vae}


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

    random_offset = False  # the clips are fixed; :func:`fixed_positions` reads this flag

    def __init__(self, tracks: list[Track], table: pd.DataFrame, frames: int) -> None:
        if table.empty:
            raise MoodtuneError("no latent clips to train on (are the tracks shorter than --clip-seconds?)")
        self.tracks, self.table, self.frames = tracks, table, frames
        self.rows = table.to_dict("records")

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

    def __init__(self, model_config: LatentVAEConfig, cfg: LatentTrainConfig) -> None:
        super().__init__(LatentVAE(model_config), cfg)

    def target(self, x: torch.Tensor) -> torch.Tensor:
        return self.model.standardise(x)

    def extra_metrics(self, x: torch.Tensor, recon: torch.Tensor) -> dict[str, torch.Tensor]:
        return {"mse": torch.nn.functional.mse_loss(recon, x)}


class LatentRecipe(Recipe[LatentTrainConfig]):
    """Hooks of the latent family."""

    def setup(self, cfg: LatentTrainConfig, progress: bool) -> Setup:
        codec = open_codec(cfg.codec_spec())
        manifest = read_audio_manifest(cfg.data, "the latent engine")
        styles = style_vocabulary(manifest)
        feature = CodecLatentFeature(codec)
        tracks = load_tracks(cfg.data, feature, styles, manifest=manifest, progress=progress)
        frames = codec.frames(cfg.clip_seconds)
        table, short = clip_table(tracks, frames, codec.frame_rate)
        labels_file = feature_folder(cfg.data, feature) / f"labels-{cfg.clip_seconds:g}s.parquet"
        if writes_run(cfg):  # one writer when several processes train together
            with atomic_path(labels_file) as tmp:
                table.to_parquet(tmp, index=False)
        splits = {s: table[table["split"] == s] for s in ("train", "val", "test")}
        train_ds = LatentClips(tracks, splits["train"], frames)
        val_ds = LatentClips(tracks, splits["val"] if not splits["val"].empty else splits["train"], frames)
        model_config = LatentVAEConfig.preset(
            cfg.size, codec_dim=codec.dim, frames=frames, latent_dim=cfg.latent_dim, n_styles=len(styles)
        )
        module = LatentVAEModule(model_config, cfg)
        train_x = torch.stack([train_ds[i]["x"] for i in range(len(train_ds))])  # [N, D, F]
        module.model.set_normalisation(train_x.mean(dim=(0, 2)), train_x.std(dim=(0, 2)))
        run_config: dict[str, Any] = {
            "model": model_config.to_dict(),
            "styles": styles,
            "codec": codec.spec(),
            "clip_seconds": cfg.clip_seconds,
        }
        if codec.kind == "spectrogram":
            run_config["codec_config"] = read_checkpoint_config(cfg.vae or "")
        held = splits["test"] if not splits["test"].empty else splits["val"]
        return Setup(
            module=module,
            train=train_ds,
            val=val_ds,
            run_config=run_config,
            context={
                "codec": codec,
                "styles": styles,
                "tracks": tracks,
                "held": held,
                "frames": frames,
                "manifest": manifest,
                "short": short,
                "labels_file": labels_file,
            },
        )

    def finish(self, cfg: LatentTrainConfig, setup: Setup, model: nn.Module, out: Path) -> Finished:
        ctx = setup.context
        engine = LatentEngine(
            model, ctx["codec"], ctx["styles"], cfg.clip_seconds, fit_latent_prior(model, setup.train)
        )
        engine.level = fit_output_level(engine, ctx["tracks"], setup.train.table)
        metrics: dict[str, Any] = {
            "codec": ctx["codec"].kind,
            "train_clips": len(setup.train),
            "tracks_too_short": int(ctx["short"]),
            "codec_frames_per_clip": ctx["frames"],
            "labels_table": str(ctx["labels_file"]),
        }
        metrics.update(heldout_latents(engine, ctx["tracks"], ctx["held"], ctx["frames"], out))
        metrics.update(
            heldout_reconstruction(engine, ctx["manifest"], ctx["styles"], out / "plots" / "reconstruction.png")
        )
        clips = mood_clips(engine, QUADRANT_MOODS, cfg.clip_seconds * 2)
        title = f"{engine.name} engine: one clip per mood (seed 0)"
        plot_waveforms([(n, r.audio) for n, r in clips], engine.sr, out / "plots" / "moods.png", title)
        return Finished(engine.state_dict(), metrics)


#: Clips quieter than this (RMS, dBFS) are left out of the level correction.
SILENT_DB = -70.0


def _one_batch(ds: LatentClips) -> dict[str, torch.Tensor]:
    """Every item of ``ds`` stacked into one batch."""
    return next(iter(DataLoader(ds, batch_size=len(ds))))


@torch.no_grad()
def fit_output_level(
    engine: LatentEngine, tracks: list[Track], table: pd.DataFrame, clips: int = 128, seed: int = 0
) -> LevelCorrection:
    """How many dB quieter the whole chain gives back training clips, as a function of their mood.

    For up to ``clips`` rows of ``table`` (drawn with ``seed``), each clip's codec latents go through the VAE
    (posterior mean) and the codec decoder, and the RMS level of that audio is compared with the level of
    the original clip read from its file. The VAE and the codec both blur, and the blur costs most where the
    music is loud, so without this correction every window would drift towards the level of quiet,
    low-arousal music.
    """
    ds = LatentClips(tracks, table.sample(min(clips, len(table)), random_state=seed), engine.model.config.frames)
    batch = _one_batch(ds)
    mu, _ = engine.model.encode(batch["x"], batch["mood"], batch["style"])
    decoded_latents = engine.model.decode(mu, batch["mood"], batch["style"]).cpu()
    codec, gains, moods = engine.codec, [], []
    for latents, mood, row in zip(decoded_latents, batch["mood"], ds.rows, strict=True):
        start = tracks[row["track"]].start_s + row["frame"] / codec.frame_rate
        end = start + engine.clip_seconds
        original, _ = load_audio(row["path"], sr=codec.sr, start_s=start, end_s=end, check_silence=False)
        decoded = codec.decode(latents, engine.clip_samples)
        level, level_back = (rms_db(torch.from_numpy(a)[None])[0] for a in (original, decoded))
        if level > SILENT_DB:  # a silent clip says nothing about the level lost
            gains.append(level - level_back)
            moods.append(mood)
    if not gains:
        raise MoodtuneError("every clip sampled for the level correction is silent")
    return LevelCorrection.fit(torch.stack(gains), torch.stack(moods))


@torch.no_grad()
def heldout_latents(
    engine: LatentEngine, tracks: list[Track], held: pd.DataFrame, frames: int, out: Path
) -> dict[str, Any]:
    """Latent MSE of held-out clips through the VAE (standardised codec latents) and a map of their latents."""
    if held.empty:
        return {}
    ds = LatentClips(tracks, held, frames)
    batch = _one_batch(ds)
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
    return {"heldout_latent_clips": len(ds), "heldout_latent_mse": round(mse, 4)}
