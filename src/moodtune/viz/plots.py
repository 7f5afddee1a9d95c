"""Matplotlib plots written atomically as PNG (Agg backend: no display needed)."""

from __future__ import annotations

import csv
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from moodtune.fsutil import atomic_path


class _Pyplot:
    """``matplotlib.pyplot`` with the Agg backend, imported on first use: a command that plots nothing (such
    as ``moodtune generate`` without ``--plot``) does not pay for it."""

    def __getattr__(self, name: str) -> Any:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as pyplot

        return getattr(pyplot, name)


plt = _Pyplot()


def _save(fig: plt.Figure, path: str | os.PathLike[str]) -> Path:
    path = Path(path)
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def _mel_axes(ax: plt.Axes, mel: np.ndarray, sr: int, hop: int, title: str) -> None:
    seconds = mel.shape[1] * hop / sr
    im = ax.imshow(
        mel, origin="lower", aspect="auto", vmin=0, vmax=1, cmap="magma", extent=(0, seconds, 0, mel.shape[0])
    )
    ax.set_title(title, fontsize=10)
    ax.set_xlabel("seconds")
    ax.set_ylabel("mel band")
    plt.colorbar(im, ax=ax, fraction=0.03, label="level (0 = -80 dB)")


def plot_spectrogram(
    mel: np.ndarray, path: str | os.PathLike[str], title: str, sr: int = 22050, hop: int = 512
) -> Path:
    """One scaled log-mel ``[n_mels, F]``."""
    fig, ax = plt.subplots(figsize=(10, 3.2))
    _mel_axes(ax, mel, sr, hop, title)
    return _save(fig, path)


def plot_reconstruction(
    original: np.ndarray,
    reconstruction: np.ndarray,
    path: str | os.PathLike[str],
    title: str = "",
    sr: int = 22050,
    hop: int = 512,
    label: str = "reconstruction",
    marker_s: float | None = None,
) -> Path:
    """Original vs reconstructed (or predicted: ``label``) log-mel, one above the other; ``marker_s`` draws a
    dashed line at that time on both (e.g. where the context of a prediction ends)."""
    fig, axes = plt.subplots(2, 1, figsize=(10, 6), sharex=True)
    _mel_axes(axes[0], original, sr, hop, f"original {title}".strip())
    _mel_axes(axes[1], reconstruction, sr, hop, f"{label} {title}".strip())
    if marker_s is not None:
        for ax in axes:
            ax.axvline(marker_s, color="white", linestyle="--", linewidth=1.5)
    return _save(fig, path)


def pca_2d(x: np.ndarray) -> np.ndarray:
    """``[N, D]`` -> first two principal components ``[N, 2]`` (identity for D <= 2)."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[1] <= 2:
        return np.pad(x, ((0, 0), (0, 2 - x.shape[1])))
    centred = x - x.mean(axis=0)
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    return centred @ vt[:2].T


def plot_latent_map(
    latents: np.ndarray,
    valence: Sequence[float],
    arousal: Sequence[float],
    styles: Sequence[str],
    path: str | os.PathLike[str],
) -> Path:
    """2-D latent map (PCA when wider than 2) coloured by valence, by arousal and by style."""
    xy = pca_2d(latents)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    label = "latent" if latents.shape[1] <= 2 else "PC"
    for ax, values, name in ((axes[0], valence, "valence"), (axes[1], arousal, "arousal")):
        sc = ax.scatter(xy[:, 0], xy[:, 1], c=np.asarray(values, dtype=float), cmap="coolwarm", vmin=-1, vmax=1, s=10)
        plt.colorbar(sc, ax=ax, label=name)
        ax.set_title(f"coloured by {name}")
    names = sorted(set(styles))
    for i, s in enumerate(names):
        mask = np.array([t == s for t in styles])
        axes[2].scatter(xy[mask, 0], xy[mask, 1], s=10, label=s, color=plt.cm.tab10(i % 10))
    axes[2].legend(fontsize=8, markerscale=2)
    axes[2].set_title("coloured by style")
    for ax in axes:
        ax.set_xlabel(f"{label} 1")
        ax.set_ylabel(f"{label} 2")
    fig.tight_layout()
    return _save(fig, path)


def read_metrics(log_dirs: Sequence[Path]) -> dict[str, list[tuple[int, float]]]:
    """``metric -> [(step, value)]`` from Lightning CSVLogger files (several runs are concatenated)."""
    series: dict[str, list[tuple[int, float]]] = {}
    for d in log_dirs:
        f = d / "metrics.csv"
        if not f.is_file():
            continue
        with f.open() as fh:
            for row in csv.DictReader(fh):
                step = int(float(row.get("step") or 0))
                for k, v in row.items():
                    if k in ("step", "epoch") or v in ("", None):
                        continue
                    series.setdefault(k, []).append((step, float(v)))
    return {k: sorted(v) for k, v in series.items()}


def plot_training_curves(
    metrics: dict[str, list[tuple[int, float]]], path: str | os.PathLike[str], keys: Sequence[str]
) -> Path:
    """Train (per step) and validation (per epoch) curves of ``keys`` (e.g. loss, recon, kl), one panel each."""
    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.5))
    for ax, key in zip(np.atleast_1d(axes), keys, strict=True):
        for stage, style in (("train", "-"), ("val", "o-")):
            name = f"{stage}/{key}_step" if stage == "train" else f"{stage}/{key}"
            pts = metrics.get(name) or metrics.get(f"{stage}/{key}_epoch") or metrics.get(f"{stage}/{key}") or []
            if pts:
                ax.plot([p[0] for p in pts], [p[1] for p in pts], style, label=stage, markersize=3)
        ax.set_title(key)
        ax.set_xlabel("step")
        ax.legend()
    return _save(fig, path)


def plot_piano_roll(notes: Sequence[tuple[float, float, int, int]], path: str | os.PathLike[str], title: str) -> Path:
    """Piano roll of ``(start_s, duration_s, pitch, velocity)`` notes; colour = velocity."""
    from matplotlib.collections import PolyCollection

    fig, ax = plt.subplots(figsize=(12, 4))
    cmap = plt.cm.viridis
    boxes = [[(s, p - 0.4), (s + d, p - 0.4), (s + d, p + 0.4), (s, p + 0.4)] for s, d, p, _ in notes]
    colours = [cmap(v / 127) for _, _, _, v in notes]
    ax.add_collection(PolyCollection(boxes, facecolors=colours, edgecolors="none"))  # one artist: fast to draw
    if notes:
        ax.set_xlim(0, max(s + d for s, d, _, _ in notes) + 0.1)
        pitches = [p for _, _, p, _ in notes]
        ax.set_ylim(min(pitches) - 2, max(pitches) + 2)
    ax.set_xlabel("seconds")
    ax.set_ylabel("MIDI pitch")
    ax.set_title(title, fontsize=10)
    sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, 127))
    plt.colorbar(sm, ax=ax, label="velocity")
    return _save(fig, path)


def plot_xy_curves(
    series: dict[str, tuple[Sequence[float], Sequence[float]]], path: str | os.PathLike[str], title: str, xlabel: str
) -> Path:
    """One line per named ``(x, y)`` series on shared axes."""
    fig, ax = plt.subplots(figsize=(7, 3.5))
    for name, (x, y) in series.items():
        ax.plot(x, y, label=name)
    ax.set_xlabel(xlabel)
    ax.set_title(title, fontsize=10)
    ax.legend()
    return _save(fig, path)


def _circumplex_axes(ax: plt.Axes, title: str) -> None:
    ax.axhline(0, color="grey", lw=0.5)
    ax.axvline(0, color="grey", lw=0.5)
    ax.set_xlim(-1, 1)
    ax.set_ylim(-1, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("valence")
    ax.set_ylabel("arousal")
    ax.set_title(title, fontsize=10)
    for x, y, name in ((0.5, 0.9, "happy"), (-0.5, 0.9, "angry"), (-0.5, -0.95, "sad"), (0.5, -0.95, "calm")):
        ax.text(x, y, name, ha="center", fontsize=8, color="grey")


def plot_mood_scatter(true: np.ndarray, pred: np.ndarray, path: str | os.PathLike[str], title: str) -> Path:
    """Predicted ``[N, 2]`` vs true / asked ``[N, 2]`` valence-arousal: arrows on the circumplex plus
    one predicted-vs-true panel per dimension."""
    fig, axes = plt.subplots(1, 3, figsize=(13, 4.2))
    _circumplex_axes(axes[0], title)
    axes[0].scatter(true[:, 0], true[:, 1], s=14, c="black", label="asked / true")
    axes[0].scatter(pred[:, 0], pred[:, 1], s=10, c="tab:orange", label="measured")
    for t, p in zip(true, pred, strict=True):
        axes[0].plot([t[0], p[0]], [t[1], p[1]], color="tab:orange", lw=0.4, alpha=0.5)
    axes[0].legend(fontsize=7, loc="center left")
    for ax, i, name in ((axes[1], 0, "valence"), (axes[2], 1, "arousal")):
        ax.scatter(true[:, i], pred[:, i], s=10)
        ax.plot([-1, 1], [-1, 1], color="grey", lw=0.8)
        ax.set_xlim(-1.05, 1.05)
        ax.set_ylim(-1.05, 1.05)
        ax.set_xlabel(f"asked / true {name}")
        ax.set_ylabel(f"measured {name}")
        ax.set_title(name, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def plot_mood_curve(
    times: np.ndarray,
    measured: np.ndarray,
    path: str | os.PathLike[str],
    title: str,
    asked: np.ndarray | None = None,
) -> Path:
    """Valence and arousal ``[N, 2]`` over ``times`` ``[N]``; dashed: the asked curve when given."""
    fig, ax = plt.subplots(figsize=(8, 3.5))
    for i, (name, colour) in enumerate((("valence", "tab:blue"), ("arousal", "tab:red"))):
        ax.plot(times, measured[:, i], color=colour, label=f"measured {name}")
        if asked is not None:
            ax.plot(times, asked[:, i], "--", color=colour, label=f"asked {name}")
    ax.set_ylim(-1.05, 1.05)
    ax.axhline(0, color="grey", lw=0.5)
    ax.set_xlabel("seconds")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=7, ncol=2)
    return _save(fig, path)


def plot_distributions(groups: dict[str, dict[str, Sequence[float]]], path: str | os.PathLike[str], title: str) -> Path:
    """Histograms per metric (one panel each) of several sets: ``groups[set][metric] -> values``."""
    metrics = list(next(iter(groups.values())).keys())
    cols = min(4, len(metrics))
    rows = (len(metrics) + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for ax, metric in zip(axes.ravel(), metrics, strict=False):
        values = [np.asarray(v[metric], float) for v in groups.values()]
        finite = np.concatenate([v[np.isfinite(v)] for v in values]) if values else np.zeros(0)
        bins = np.linspace(finite.min(), finite.max() + 1e-9, 20) if finite.size else 10
        for name, v in zip(groups, values, strict=True):
            ax.hist(v[np.isfinite(v)], bins=bins, alpha=0.45, label=name, density=True)
        ax.set_title(metric, fontsize=9)
    for ax in axes.ravel()[len(metrics) :]:
        ax.axis("off")
    axes.ravel()[0].legend(fontsize=7)
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    return _save(fig, path)


def _waveform_axes(ax: plt.Axes, audio: np.ndarray, sr: int, title: str) -> None:
    t = np.arange(len(audio)) / sr
    ax.plot(t, audio, linewidth=0.4, color="tab:blue")
    ax.set_ylim(-1.05, 1.05)
    ax.set_xlim(0, max(t[-1] if len(t) else 0, 1e-3))
    ax.set_title(title, fontsize=8)
    ax.tick_params(labelsize=7)


def plot_waveform_grid(
    audio: np.ndarray, sr: int, row_labels: Sequence[str], path: str | os.PathLike[str], title: str
) -> Path:
    """A grid of waveforms ``audio [rows, cols, T]``; each row is labelled (e.g. by the mood asked for)."""
    rows, cols = audio.shape[:2]
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 1.6 * rows), sharex=True, sharey=True, squeeze=False)
    for r in range(rows):
        for c in range(cols):
            _waveform_axes(axes[r, c], audio[r, c], sr, f"{row_labels[r]} #{c + 1}")
    for ax in axes[-1]:
        ax.set_xlabel("seconds", fontsize=7)
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def plot_waveforms(named: Sequence[tuple[str, np.ndarray]], sr: int, path: str | os.PathLike[str], title: str) -> Path:
    """Waveforms one above the other, sharing the time axis (e.g. one generated clip per mood)."""
    fig, axes = plt.subplots(len(named), 1, figsize=(10, 1.6 * len(named)), sharex=True, squeeze=False)
    for ax, (label, audio) in zip(axes[:, 0], named, strict=True):
        _waveform_axes(ax, audio, sr, label)
    axes[-1, 0].set_xlabel("seconds")
    fig.suptitle(title)
    fig.tight_layout()
    return _save(fig, path)


def frames_to_gif(frames: Sequence[Path], path: str | os.PathLike[str], ms_per_frame: int = 600) -> Path | None:
    """Join PNG frames (e.g. one per epoch) into a looping GIF; None when there are no frames."""
    from PIL import Image

    if not frames:
        return None
    images = [Image.open(f).convert("RGB") for f in frames]
    size = images[0].size
    images = [im if im.size == size else im.resize(size) for im in images]
    path = Path(path)
    with atomic_path(path) as tmp:
        images[0].save(tmp, format="GIF", save_all=True, append_images=images[1:], duration=ms_per_frame, loop=0)
    return path


def plot_mood_map(points: dict[str, tuple[np.ndarray, np.ndarray]], path: str | os.PathLike[str], title: str) -> Path:
    """Asked ``[N, 2]`` (black) and measured ``[N, 2]`` (one colour per named group) valence/arousal on the
    circumplex, each measured point joined to its asked one."""
    fig, ax = plt.subplots(figsize=(5.6, 5.6))
    _circumplex_axes(ax, title)
    for (name, (asked, measured)), colour in zip(points.items(), plt.cm.tab10.colors, strict=False):
        ax.scatter(measured[:, 0], measured[:, 1], s=22, color=colour, label=name, zorder=3)
        for t, p in zip(asked, measured, strict=True):
            ax.plot([t[0], p[0]], [t[1], p[1]], color=colour, lw=0.6, alpha=0.6)
    asked_all = np.concatenate([a for a, _ in points.values()]) if points else np.zeros((0, 2))
    ax.scatter(asked_all[:, 0], asked_all[:, 1], s=60, marker="x", color="black", label="asked", zorder=4)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return _save(fig, path)


def plot_trajectories(
    asked: tuple[np.ndarray, np.ndarray],
    measured: dict[str, tuple[np.ndarray, np.ndarray]],
    path: str | os.PathLike[str],
    title: str,
) -> Path:
    """The asked curve ``(times [N], values [N, 2])`` dashed and each group's measured ``(times [M], [M, 2])``:
    one panel for valence, one for arousal."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharey=True)
    for i, (ax, dim) in enumerate(zip(axes, ("valence", "arousal"), strict=True)):
        ax.plot(asked[0], asked[1][:, i], "--", color="black", lw=1.6, label="asked")
        for (name, (t, v)), colour in zip(measured.items(), plt.cm.tab10.colors, strict=False):
            ax.plot(t, v[:, i], color=colour, label=name)
        ax.set_ylim(-1.05, 1.05)
        ax.axhline(0, color="grey", lw=0.5)
        ax.set_xlabel("seconds")
        ax.set_title(f"{title}: {dim}", fontsize=10)
    axes[1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    fig.tight_layout()
    return _save(fig, path)
