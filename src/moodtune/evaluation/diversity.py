"""Diversity: how far apart samples asked for the same mood are (near zero = mode collapse)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: A generator whose within-mood spread is below this share of real music's is reported as collapsed.
COLLAPSE_RATIO = 0.25


def mean_pairwise_distance(x: np.ndarray) -> float:
    """Mean Euclidean distance over all pairs of rows of ``[N, D]`` (NaN for fewer than 2 rows)."""
    x = np.asarray(x, np.float64)
    if len(x) < 2:
        return float("nan")
    d = np.sqrt(np.maximum(((x[:, None, :] - x[None, :, :]) ** 2).sum(-1), 0.0))
    return float(d[np.triu_indices(len(x), 1)].mean())


def within_group_distance(clip_embeddings: np.ndarray, groups: Sequence[str], scale: np.ndarray) -> float:
    """Mean over groups (e.g. asked moods) of the mean pairwise distance of standardised clip embeddings.

    ``clip_embeddings`` ``[N, D]`` (one vector per clip), ``scale`` ``[D]`` (per-dimension spread of a
    reference set, so every dimension counts alike). Groups of one clip are left out; when all are, the
    whole set counts as one group.
    """
    z = np.asarray(clip_embeddings, np.float64) / np.maximum(scale, 1e-9)
    labels = np.asarray(groups)
    values = [mean_pairwise_distance(z[labels == g]) for g in sorted(set(groups))]
    values = [v for v in values if np.isfinite(v)]
    if not values:  # every group is a single clip: the spread of the whole set
        return mean_pairwise_distance(z)
    return float(np.mean(values))
