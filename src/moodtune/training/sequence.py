"""Train the sequence engine: ``moodtune train sequence --data DIR --vae RUN --out RUN2``.

Each track of the prepared dataset becomes the sequence of its slice latents (encoder means of slices
every ``slice_frames - overlap`` frames, the geometry generation uses), with the valence/arousal of the
clip that covers each step.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import lightning as L
import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from moodtune.audio.io import AudioReadError, load_audio
from moodtune.data.manifest import read_manifest, va_curve_array
from moodtune.engines.base import Request
from moodtune.engines.checkpoint import save_checkpoint
from moodtune.engines.spectrogram import SpectrogramEngine
from moodtune.errors import MoodtuneError
from moodtune.fsutil import atomic_path, write_json_atomic
from moodtune.models.conditioning import UNKNOWN_STYLE, mood_vector
from moodtune.models.sequence import SequenceModelConfig
from moodtune.progress import progress_bar
from moodtune.training.sequence_module import SequenceModule
from moodtune.training.trainer import check_run_folder, fit, loaders, resumed_config, write_training_plots


@dataclass
class SequenceTrainConfig:
    """Everything a sequence training run depends on (saved in the run)."""

    data: str
    vae: str
    out: str
    loss: str = "gan"
    epochs: int = 100
    max_minutes: float | None = None
    size: str = "small"
    steps: int = 6
    batch_size: int = 32
    lr: float = 1e-3
    adv_weight: float = 0.05
    accelerator: str = "auto"
    devices: int = 1
    seed: int = 0


@dataclass
class LatentTrack:
    """One track as latents ``[T, D]``, moods ``[T, 3]`` and a style id."""

    z: torch.Tensor
    mood: torch.Tensor
    style: int


def track_latents(
    vae: SpectrogramEngine, manifest: pd.DataFrame, styles: list[str], split: str, progress: bool = True
) -> list[LatentTrack]:
    """Latent sequences of every audio file of ``split`` (unreadable files are skipped)."""
    rows = manifest[manifest["split"] == split]
    hop = vae.slice_frames - vae.overlap
    seconds_per_frame = vae.mel_config.hop_length / vae.mel_config.sr
    tracks = []
    groups = list(rows.groupby("path", sort=True))
    with progress_bar(f"encoding {split} tracks", total=len(groups), enabled=progress) as advance:
        for path, clips in groups:
            advance()
            try:
                audio, _ = load_audio(path, sr=vae.mel_config.sr)
            except AudioReadError:
                continue
            slices = vae.strided_slices(vae.logmel(audio), hop)
            centres = (np.arange(len(slices)) * hop + vae.slice_frames / 2) * seconds_per_frame
            clips = clips.sort_values("start_s")
            idx = np.clip(np.searchsorted(clips["start_s"].to_numpy(), centres, side="right") - 1, 0, len(clips) - 1)
            picked = clips.iloc[idx]
            mood = torch.tensor([step_mood(row, t) for row, t in zip(picked.to_dict("records"), centres, strict=True)])
            style_name = str(clips["style"].iloc[0])
            style = styles.index(style_name) if style_name in styles[1:] else UNKNOWN_STYLE
            z = vae.encode_slices(slices, mood, torch.full((len(slices),), style, dtype=torch.long)).cpu()
            tracks.append(LatentTrack(z, mood, style))
    return tracks


def step_mood(clip: dict[str, Any], seconds: float) -> list[float]:
    """``[valence, arousal, known]`` at ``seconds`` into the track: the clip's per-second annotation there
    (DEAM's dynamic labels, ``va_curve``) when it has one, else the clip's static label."""
    curve = va_curve_array(clip.get("va_curve") or "")
    i = math.floor(seconds) - math.floor(clip["start_s"])
    if 0 <= i < len(curve) and not np.isnan(curve[i]).any():
        return mood_vector(*curve[i])
    return mood_vector(clip["valence"], clip["arousal"])


class LatentWindows(Dataset):
    """Windows of ``steps`` consecutive latents from tracks at least that long, standardised.

    With ``random_offset`` each item is a random window of its track (training); else the first one.
    """

    def __init__(
        self, tracks: list[LatentTrack], steps: int, mean: torch.Tensor, std: torch.Tensor, random_offset: bool
    ) -> None:
        self.tracks = [t for t in tracks if len(t.z) >= steps]
        if not self.tracks:
            raise MoodtuneError(f"no track is {steps} slices long; use a smaller --steps")
        self.steps, self.mean, self.std, self.random_offset = steps, mean, std, random_offset

    def __len__(self) -> int:
        return len(self.tracks)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        t = self.tracks[i]
        start = int(torch.randint(0, len(t.z) - self.steps + 1, ())) if self.random_offset else 0
        sl = slice(start, start + self.steps)
        return {"z": (t.z[sl] - self.mean) / self.std, "mood": t.mood[sl], "style": torch.tensor(t.style)}


def train_sequence(cfg: SequenceTrainConfig, resume: bool = False, progress: bool = True) -> dict[str, Any]:
    """Train, export ``model.safetensors`` (sequence model + its VAE) + ``config.json``; returns the results."""
    t0 = time.perf_counter()
    if cfg.loss not in ("gan", "l2"):
        raise MoodtuneError(f"--loss must be gan or l2, not {cfg.loss!r}")
    out = Path(cfg.out)
    resume_from = check_run_folder(out, resume)
    cfg = resumed_config(out, cfg, resume)
    if cfg.steps < 3:
        raise MoodtuneError("--steps must be at least 3")
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    vae = SpectrogramEngine.from_checkpoint(cfg.vae)
    manifest = read_manifest(cfg.data)
    styles = vae.styles  # the VAE's conditioning vocabulary, which the latents were encoded with
    out.mkdir(parents=True, exist_ok=True)
    latents_file = out / "latents.pt"
    if resume and latents_file.is_file():  # a fresh run re-encodes: --vae or the data may have changed
        data = {s: [LatentTrack(**t) for t in tracks] for s, tracks in torch.load(latents_file).items()}
    else:
        data = {s: track_latents(vae, manifest, styles, s, progress) for s in ("train", "val")}
        with atomic_path(latents_file) as tmp:
            torch.save({s: [asdict(t) for t in tracks] for s, tracks in data.items()}, tmp)
    train_tracks = data["train"]
    if not train_tracks:
        raise MoodtuneError(f"{cfg.data}: no readable training tracks")
    all_z = torch.cat([t.z for t in train_tracks])
    mean, std = all_z.mean(0), all_z.std(0).clamp_min(1e-3)
    train_ds = LatentWindows(train_tracks, cfg.steps, mean, std, random_offset=True)
    val_ds = LatentWindows(data["val"] or train_tracks, cfg.steps, mean, std, random_offset=False)
    train_loader, val_loader = loaders(train_ds, val_ds, cfg.batch_size, cfg.seed, drop_last=False)
    model_config = SequenceModelConfig.preset(cfg.size, latent_dim=vae.model.config.latent_dim, n_styles=len(styles))
    run_config = {"engine": "sequence", "train": asdict(cfg), "model": model_config.to_dict(), "styles": styles}
    write_json_atomic(out / "train_config.json", run_config)
    module = SequenceModule(model_config.to_dict(), cfg.loss, cfg.lr, cfg.adv_weight)
    model, fitted = fit(module, out, cfg, train_loader, val_loader, resume_from, progress, t0)
    results = {
        "loss": cfg.loss,
        **{k: v for k, v in fitted.items() if k != "best_val_loss"},
        "best_val_free_l2": fitted["best_val_loss"],  # val/loss is the free-running L2
        "train_tracks": len(train_ds),
    }
    state = {f"seq.{k}": v for k, v in model.state_dict().items()}
    state.update({f"vae.{k}": v for k, v in vae.state_dict().items()})
    state.update({"norm.mean": mean, "norm.std": std})
    save_checkpoint(
        out, "sequence", state, {**run_config, "vae": vae.config, "data": str(cfg.data), "results": results}
    )
    held = manifest[manifest["split"] == "test"]
    if not held.empty:
        from moodtune.engines.sequence import SequenceEngine

        engine = SequenceEngine.from_checkpoint(out)
        write_continuation_plot(engine, held.iloc[0].to_dict(), out / "plots" / "continuation_vs_original.png")
    write_training_plots(out, ["loss", "l2"])
    return results


def write_continuation_plot(engine: Any, row: dict[str, Any], png: Path, context_steps: int = 2) -> Path | None:
    """Predicted vs original spectrogram of a manifest row's file, continued after ``context_steps`` latents
    with the row's mood (None when the file is unreadable or too short)."""
    from moodtune.mood import Mood
    from moodtune.viz.plots import plot_reconstruction

    v, a = row.get("valence"), row.get("arousal")
    mood = Mood(float(v), float(a)) if v is not None and a is not None and v == v and a == a else Mood(0.0, 0.0)
    try:
        audio, _ = load_audio(row["path"], sr=engine.sr)
        original, predicted, context_s = engine.predict_held_out(audio, context_steps, Request(mood=mood, seconds=1.0))
    except (AudioReadError, MoodtuneError):
        return None
    title = f"({Path(row['path']).name}, held out, {mood.nearest_name()})"
    label = f"predicted after {context_s:.1f} s of context"
    return plot_reconstruction(original, predicted, png, title, engine.sr, label=label, marker_s=context_s)
