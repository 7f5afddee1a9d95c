"""Train/val/test splits by track, so no track's clips leak across splits."""

from __future__ import annotations

import random
from collections.abc import Iterable


def assign_splits(
    track_ids: Iterable[str], seed: int = 0, val_fraction: float = 0.1, test_fraction: float = 0.1
) -> dict[str, str]:
    """Map each distinct track id to ``train``, ``val`` or ``test``.

    The sorted ids are shuffled with ``seed``; the first ``round(test_fraction * n)`` go to test,
    the next ``round(val_fraction * n)`` to val, the rest to train. With three or more tracks, val
    and test get at least one track each (when their fraction is positive).
    """
    ids = sorted(set(track_ids))
    rng = random.Random(seed)
    rng.shuffle(ids)
    n = len(ids)
    n_test = round(test_fraction * n)
    n_val = round(val_fraction * n)
    if n >= 3:
        n_test = max(n_test, 1 if test_fraction > 0 else 0)
        n_val = max(n_val, 1 if val_fraction > 0 else 0)
    splits: dict[str, str] = {}
    for i, tid in enumerate(ids):
        splits[tid] = "test" if i < n_test else "val" if i < n_test + n_val else "train"
    return splits
