"""Train the sequence engine: ``moodtune train sequence --data DIR --vae RUN --out RUN2``.

Each track of the prepared dataset becomes the sequence of its slice latents (encoder means of slices
every ``slice_frames - overlap`` frames, the geometry generation uses), with the valence/arousal of the
clip that covers each step.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.utils.data import Dataset

from moodtune.audio.io import AudioReadError, load_audio
from moodtune.data.manifest import read_audio_manifest, va_curve_array
from moodtune.engines.base import Request
from moodtune.engines.sequence import SequenceEngine
from moodtune.engines.spectrogram import SpectrogramEngine
from moodtune.errors import MoodtuneError
from moodtune.fsutil import atomic_path
from moodtune.labels import UNKNOWN_STYLE, mood_vector
from moodtune.models.sequence import SequenceModelConfig
from moodtune.mood import Mood
from moodtune.progress import progress_bar
from moodtune.training.config import TrainConfig, option
from moodtune.training.distributed import writes_run
from moodtune.training.heldout import heldout_rows
from moodtune.training.recipe import Finished, Recipe, Setup
from moodtune.training.sequence_module import SequenceModule
from moodtune.viz.plots import plot_reconstruction


@dataclass(kw_only=True)
class SequenceTrainConfig(TrainConfig):
    """Everything a sequence training run depends on (saved in the run)."""

    engine: ClassVar[str] = "sequence"

    vae: str = option(help="the spectrogram run whose latents the sequence model learns")
    loss: str = option("gan", help="L2 + adversarial (gan) or L2 only", choices=("gan", "l2"))
    epochs: int = option(100, help="maximum number of epochs", positive=True)
    steps: int = option(6, help="latents per training window", minimum=3)
    adv_weight: float = option(0.05, help="weight of the adversarial loss (with --loss gan)", minimum=0.0)


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


def encoded_tracks(
    vae: SpectrogramEngine, manifest: pd.DataFrame, out: Path, resume: bool, progress: bool, primary: bool = True
) -> dict[str, list[LatentTrack]]:
    """Latent tracks of the train and val splits, cached in ``out/latents.pt`` for a resumed run (a fresh run
    encodes again: ``--vae`` or the data may have changed); only the ``primary`` process writes the file."""
    latents_file = out / "latents.pt"
    if resume and latents_file.is_file():
        saved = torch.load(latents_file, weights_only=True)  # tensors and plain values only, never code
        return {s: [LatentTrack(**t) for t in tracks] for s, tracks in saved.items()}
    data = {s: track_latents(vae, manifest, vae.styles, s, progress) for s in ("train", "val")}
    if primary:  # one writer when several processes train together
        out.mkdir(parents=True, exist_ok=True)
        with atomic_path(latents_file) as tmp:
            torch.save({s: [asdict(t) for t in tracks] for s, tracks in data.items()}, tmp)
    return data


class SequenceRecipe(Recipe[SequenceTrainConfig]):
    """Hooks of the sequence family."""

    plot_keys = ("loss", "l2")

    def setup(self, cfg: SequenceTrainConfig, progress: bool) -> Setup:
        vae = SpectrogramEngine.from_checkpoint(cfg.vae)
        manifest = read_audio_manifest(cfg.data, "the sequence engine")
        styles = vae.styles  # the VAE's conditioning vocabulary, which the latents were encoded with
        data = encoded_tracks(vae, manifest, Path(cfg.out), cfg.resume, progress, writes_run(cfg))
        if not data["train"]:
            raise MoodtuneError(f"{cfg.data}: no readable training tracks")
        all_z = torch.cat([t.z for t in data["train"]])
        mean, std = all_z.mean(0), all_z.std(0).clamp_min(1e-3)
        train_ds = LatentWindows(data["train"], cfg.steps, mean, std, random_offset=True)
        val_ds = LatentWindows(data["val"] or data["train"], cfg.steps, mean, std, random_offset=False)
        model_config = SequenceModelConfig.preset(
            cfg.size, latent_dim=vae.model.config.latent_dim, n_styles=len(styles)
        )
        return Setup(
            module=SequenceModule(model_config.to_dict(), cfg),
            train=train_ds,
            val=val_ds,
            run_config={"model": model_config.to_dict(), "styles": styles},
            drop_last=False,
            context={"vae": vae, "mean": mean, "std": std, "manifest": manifest},
        )

    def finish(self, cfg: SequenceTrainConfig, setup: Setup, model: nn.Module, out: Path) -> Finished:
        ctx = setup.context
        state = {f"seq.{k}": v for k, v in model.state_dict().items()}
        state.update({f"vae.{k}": v for k, v in ctx["vae"].state_dict().items()})
        state.update({"norm.mean": ctx["mean"], "norm.std": ctx["std"]})
        metrics = {"loss": cfg.loss, "train_tracks": len(setup.train)}  # val/loss is the free-running L2
        held = heldout_rows(ctx["manifest"])
        if not held.empty:
            engine = SequenceEngine(model, ctx["vae"], ctx["mean"], ctx["std"], ctx["vae"].styles)
            write_continuation_plot(engine, held.iloc[0].to_dict(), out / "plots" / "continuation_vs_original.png")
        return Finished(state, metrics, {"vae": ctx["vae"].config})


def write_continuation_plot(
    engine: SequenceEngine, row: dict[str, Any], png: Path, context_steps: int = 2
) -> Path | None:
    """Predicted vs original spectrogram of a manifest row's file, continued after ``context_steps`` latents
    with the row's mood (None when the file is unreadable or too short)."""
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
