"""How well measured valence/arousal match asked (or true) values: R^2, RMSE, correlation, quadrants."""

from __future__ import annotations

import numpy as np

from moodtune.mood import quadrant


def r2_score(pred: np.ndarray, true: np.ndarray) -> float:
    """Coefficient of determination of ``pred`` for ``true`` (both ``[N]``)."""
    ss_tot = float(np.sum((true - true.mean()) ** 2))
    if ss_tot == 0.0:
        return float("nan")
    return 1.0 - float(np.sum((true - pred) ** 2)) / ss_tot


def pearson(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson correlation (NaN when either side is constant)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if len(a) < 2 or a.std() == 0 or b.std() == 0:
        return float("nan")
    return float(np.corrcoef(a, b)[0, 1])


def quadrant_accuracy(pred: np.ndarray, true: np.ndarray) -> float:
    """Share of rows whose predicted and true ``[v, a]`` fall in the same circumplex quadrant."""
    hits = [quadrant(*p) == quadrant(*t) for p, t in zip(pred, true, strict=True)]
    return float(np.mean(hits)) if hits else float("nan")


def regression_scores(pred: np.ndarray, true: np.ndarray) -> dict[str, float]:
    """R^2, RMSE and Pearson r for valence and arousal, and four-quadrant accuracy; ``[N, 2]`` inputs."""
    out: dict[str, float] = {}
    for i, name in enumerate(("valence", "arousal")):
        out[f"{name}_r2"] = round(r2_score(pred[:, i], true[:, i]), 4)
        out[f"{name}_rmse"] = round(float(np.sqrt(np.mean((pred[:, i] - true[:, i]) ** 2))), 4)
        out[f"{name}_r"] = round(pearson(pred[:, i], true[:, i]), 4)
    out["quadrant_accuracy"] = round(quadrant_accuracy(pred, true), 4)
    return out


def control_scores(measured: np.ndarray, asked: np.ndarray) -> dict[str, float]:
    """Mood control of a generator: mean absolute error to the asked values, asked-vs-measured
    correlation for valence and arousal, and four-quadrant accuracy; ``[N, 2]`` inputs."""
    out: dict[str, float] = {}
    for i, name in enumerate(("valence", "arousal")):
        out[f"{name}_mae"] = round(float(np.mean(np.abs(measured[:, i] - asked[:, i]))), 4)
        out[f"{name}_r"] = round(pearson(asked[:, i], measured[:, i]), 4)
    out["quadrant_accuracy"] = round(quadrant_accuracy(measured, asked), 4)
    return out
