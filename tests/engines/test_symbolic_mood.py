"""The mood is audible in the symbolic engine's output: a small model trained ~30 s on builtin.

High arousal (happy, angry) must come out louder and denser than low arousal (sad, calm) for the
same seeds. Mode (valence) is measured by `moodtune evaluate`, not asserted here: a model this
small and this briefly trained does not learn it reliably (see README).
"""

import numpy as np
import pytest

from moodtune.data import prepare
from moodtune.engines.base import Request, load_engine
from moodtune.mood import Mood
from moodtune.training.symbolic import SymbolicTrainConfig, train_symbolic

SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    data = tmp_path_factory.mktemp("mood_data")
    prepare("builtin", None, data, limit=10, workers=2, progress=False)
    run = tmp_path_factory.mktemp("mood_run")
    cfg = SymbolicTrainConfig(data=str(data), out=str(run), epochs=15, size="small", batch_size=32)
    train_symbolic(cfg, progress=False)
    return load_engine(run)


def _stats(engine, mood):
    velocity, density = [], []
    for seed in SEEDS:
        notes = engine.tokenizer.decode(engine.generate_tokens(Request(mood=Mood.named(mood), seconds=10, seed=seed)))
        notes = [n for n in notes if n.start < 10]
        velocity.append(np.mean([n.velocity for n in notes]))
        density.append(len({round(n.start, 2) for n in notes}) / 10)
    return np.mean(velocity), np.mean(density)


def test_high_arousal_is_louder_and_denser(engine):
    stats = {m: _stats(engine, m) for m in ("happy", "angry", "sad", "calm")}
    high_vel = np.mean([stats[m][0] for m in ("happy", "angry")])
    low_vel = np.mean([stats[m][0] for m in ("sad", "calm")])
    high_density = np.mean([stats[m][1] for m in ("happy", "angry")])
    low_density = np.mean([stats[m][1] for m in ("sad", "calm")])
    assert high_vel > low_vel + 10, stats
    assert high_density > 1.2 * low_density, stats
