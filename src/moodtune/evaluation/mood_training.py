"""Train the independent mood model (the evaluation's judge): ``moodtune train mood``.

Descriptors (:mod:`moodtune.evaluation.descriptors`) of 4 s windows of the labelled *training* clips of
a prepared dataset, with each clip's valence/arousal as the target; an MLP regressor; early stopping on
the validation clips; R^2 and RMSE on the held-out test clips. It never sees generated audio.
"""

from __future__ import annotations

import copy
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F

from moodtune.data.cache import FeatureCache
from moodtune.data.manifest import read_audio_manifest, va_curve_array
from moodtune.engines.checkpoint import save_checkpoint
from moodtune.errors import MoodtuneError
from moodtune.evaluation.descriptors import DESCRIPTOR_SIZE, MoodDescriptors
from moodtune.evaluation.mood_control import regression_scores
from moodtune.models.mood_regressor import MoodRegressor
from moodtune.progress import progress_bar
from moodtune.training.config import RunConfig, option
from moodtune.training.result import TrainResult
from moodtune.viz.plots import plot_mood_scatter, plot_xy_curves


@dataclass(kw_only=True)
class MoodTrainConfig(RunConfig):
    """Everything a mood-model run depends on (saved in the checkpoint). Trained with a plain loop on the
    CPU (a small MLP over cached descriptors), so it has no accelerator, device or resume options."""

    engine: ClassVar[str] = "mood"

    epochs: int = option(400, help="maximum number of epochs", positive=True)
    max_minutes: float | None = option(None, help="stop training after this many minutes", positive=True)
    patience: int = option(40, help="stop after this many epochs without a better validation RMSE", positive=True)
    batch_size: int = option(64, help="windows per batch", positive=True)
    lr: float = option(5e-4, help="learning rate (AdamW)", positive=True)
    weight_decay: float = option(1e-3, help="AdamW weight decay", minimum=0.0)
    hidden: int = option(128, help="hidden units of the regressor", positive=True)
    embed_dim: int = option(32, help="size of the embedding the FAD uses", positive=True)


def _labelled(manifest: pd.DataFrame) -> pd.DataFrame:
    return manifest[manifest["valence"].notna() & manifest["arousal"].notna()].reset_index(drop=True)


def window_labels(row: dict[str, Any], starts_s: np.ndarray, window_s: float) -> np.ndarray:
    """Valence/arousal ``[W, 2]`` of the windows starting at ``starts_s`` (seconds into the clip).

    Where the clip has a per-second curve (DEAM's dynamic annotations, ``va_curve``), a window gets the
    mean of the annotated seconds it covers; otherwise, and where no second of it is annotated, the
    clip's static label.
    """
    static = np.array([row["valence"], row["arousal"]], np.float32)
    out = np.tile(static, (len(starts_s), 1))
    curve = va_curve_array(row.get("va_curve") or "")
    for w, t0 in enumerate(starts_s):
        part = curve[int(np.floor(t0)) : int(np.ceil(t0 + window_s))]
        known = part[~np.isnan(part).any(axis=1)]
        if len(known):
            out[w] = known.mean(axis=0)
    return out


def load_split_descriptors(
    data_dir: str | os.PathLike[str], manifest: pd.DataFrame, split: str, feature: MoodDescriptors
) -> tuple[list[np.ndarray], np.ndarray, list[np.ndarray]]:
    """Per-clip descriptor arrays ``[W, D]``, clip labels ``[N, 2]`` and per-window labels ``[W, 2]``."""
    rows = manifest[manifest["split"] == split].to_dict("records")
    cache = FeatureCache(data_dir)
    feats = [cache.load_row(feature, r) for r in rows]
    per_window = []
    for r, f in zip(rows, feats, strict=True):
        starts = feature.window_starts(round((r["end_s"] - r["start_s"]) * feature.sr))[: len(f)] / feature.sr
        per_window.append(window_labels(r, np.pad(starts, (0, len(f) - len(starts))), feature.window_s))
    labels = np.array([[r["valence"], r["arousal"]] for r in rows], np.float32).reshape(-1, 2)
    return feats, labels, per_window


def _windows(feats: list[np.ndarray], per_window: list[np.ndarray]) -> tuple[torch.Tensor, torch.Tensor]:
    x = np.concatenate(feats) if feats else np.zeros((0, DESCRIPTOR_SIZE), np.float32)
    y = np.concatenate(per_window) if per_window else np.zeros((0, 2), np.float32)
    return torch.from_numpy(x).float(), torch.from_numpy(y).float()


def predict_clips(model: MoodRegressor, feats: list[np.ndarray]) -> np.ndarray:
    """Clip predictions ``[N, 2]``: the mean over each clip's windows."""
    model.eval()
    with torch.no_grad():
        return np.stack([model(torch.from_numpy(f).float()).mean(0).numpy() for f in feats])


def train_mood(cfg: MoodTrainConfig, progress: bool = True, workers: int | None = None) -> TrainResult:
    """Train and export ``model.safetensors`` + ``config.json`` into ``cfg.out``; returns the scores."""
    t0 = time.perf_counter()
    manifest = _labelled(read_audio_manifest(cfg.data, "the mood model"))
    counts = manifest["split"].value_counts()
    for split in ("train", "val", "test"):
        if counts.get(split, 0) < 2:
            raise MoodtuneError(
                f"{cfg.data}: the mood model needs labelled clips in train, val and test; "
                f"{split} has {counts.get(split, 0)} "
                "(a dataset with valence/arousal labels: builtin, deam, midi --labels)"
            )
    feature = MoodDescriptors()
    FeatureCache(cfg.data).ensure(manifest, feature, workers=workers or os.cpu_count() or 1, progress=progress)
    data = {s: load_split_descriptors(cfg.data, manifest, s, feature) for s in ("train", "val", "test")}
    x, y = _windows(data["train"][0], data["train"][2])

    torch.manual_seed(cfg.seed)
    gen = torch.Generator().manual_seed(cfg.seed)
    model = MoodRegressor(DESCRIPTOR_SIZE, cfg.hidden, cfg.embed_dim)
    model.set_standardisation(x)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    best, best_rmse, since, curve = copy.deepcopy(model.state_dict()), float("inf"), 0, []
    with progress_bar("training mood model", total=cfg.epochs, enabled=progress) as advance:
        for epoch in range(cfg.epochs):
            model.train()
            order = torch.randperm(len(x), generator=gen)
            losses = []
            for i in range(0, len(x), cfg.batch_size):
                idx = order[i : i + cfg.batch_size]
                loss = F.mse_loss(model(x[idx]), y[idx])
                opt.zero_grad()
                loss.backward()
                opt.step()
                losses.append(loss.item())
            val_pred = predict_clips(model, data["val"][0])
            val_rmse = float(np.sqrt(np.mean((val_pred - data["val"][1]) ** 2)))
            curve.append((epoch, float(np.mean(losses)), val_rmse))
            advance()
            if val_rmse < best_rmse - 1e-4:
                best, best_rmse, since = copy.deepcopy(model.state_dict()), val_rmse, 0
            else:
                since += 1
            if since >= cfg.patience or (cfg.max_minutes and time.perf_counter() - t0 > 60 * cfg.max_minutes):
                break
    model.load_state_dict(best)
    scores = {
        split: regression_scores(predict_clips(model, data[split][0]), data[split][1]) for split in ("val", "test")
    }
    out = Path(cfg.out)
    result = TrainResult(
        engine="mood",
        out=str(out),
        train_minutes=round((time.perf_counter() - t0) / 60, 2),
        epochs=len(curve),
        steps=len(curve) * -(-len(x) // cfg.batch_size),
        params=sum(p.numel() for p in model.parameters()),
        best_val_loss=round(best_rmse, 4),
        metrics={
            "train_clips": len(data["train"][0]),
            "train_windows": len(x),
            **{f"{split}_{k}": v for split, s in scores.items() for k, v in s.items()},
        },
    )
    save_checkpoint(
        out,
        "mood",
        model.state_dict(),
        {
            "descriptors": feature.params(),
            "model": {"in_dim": DESCRIPTOR_SIZE, "hidden": cfg.hidden, "embed_dim": cfg.embed_dim},
            "train": cfg.to_dict(),
            "results": result.flat(),
        },
    )
    test_pred = predict_clips(model, data["test"][0])
    plot_mood_scatter(data["test"][1], test_pred, out / "plots" / "test_predictions.png", "mood model on test clips")
    e = [c[0] for c in curve]
    plot_xy_curves(
        {"train MSE": (e, [c[1] for c in curve]), "val RMSE": (e, [c[2] for c in curve])},
        out / "plots" / "training_curves.png",
        "mood model training",
        "epoch",
    )
    return result
