import random

import pytest

from moodtune.data.cues import QUADRANT_SIGNS, Cues, sample_cues
from moodtune.data.splits import assign_splits
from moodtune.mood import quadrant_name


@pytest.mark.parametrize("quadrant", list(QUADRANT_SIGNS))
def test_sampled_cues_land_in_their_quadrant(quadrant):
    rng = random.Random(1)
    for _ in range(200):
        c = sample_cues(quadrant, rng)
        assert quadrant_name(c.valence, c.arousal) == quadrant
        assert -1 <= c.valence <= 1 and -1 <= c.arousal <= 1
        assert 1 <= c.velocity <= 127 and 0.25 <= c.duration_fraction <= 1.0


def test_cue_mappings_at_extremes():
    slow = Cues(mode=-1, tempo=-1, loudness=-1, articulation=-1, register=-1)
    fast = Cues(mode=1, tempo=1, loudness=1, articulation=1, register=1)
    assert (slow.valence, slow.arousal) == (-1.0, -1.0) and (fast.valence, fast.arousal) == (1.0, 1.0)
    assert slow.bpm == pytest.approx(59.46, abs=0.01) and fast.bpm == pytest.approx(168.18, abs=0.01)
    assert (slow.velocity, fast.velocity) == (30, 110)
    assert (slow.duration_fraction, fast.duration_fraction) == (1.0, pytest.approx(0.3))
    assert (slow.transpose, fast.transpose) == (-12, 12)


def test_splits_deterministic_disjoint_and_proportional():
    ids = [f"t{i}" for i in range(100)]
    a, b = assign_splits(ids, seed=0), assign_splits(list(reversed(ids)), seed=0)
    assert a == b
    counts = {s: sum(1 for v in a.values() if v == s) for s in ("train", "val", "test")}
    assert counts == {"train": 80, "val": 10, "test": 10}
    assert assign_splits(ids, seed=1) != a


def test_tiny_sets_still_have_val_and_test():
    assert sorted(assign_splits(["a", "b", "c"]).values()) == ["test", "train", "val"]
    assert assign_splits(["a"]) == {"a": "train"}
