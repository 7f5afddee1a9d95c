"""The mood is audible in the symbolic engine's output: a small model trained about 30 s on builtin.

High arousal (happy, angry) must come out louder and denser than low arousal (sad, calm), and
positive valence (happy, calm) must use more major than minor thirds above the tonic than negative
valence (sad, angry), for the same seeds. Training pieces are moved to a C tonic, which is what makes
the mode learnable this quickly.
"""

import numpy as np
import pytest

from moodtune.data import prepare
from moodtune.engines.base import load_engine
from moodtune.evaluation.symbolic_mood import mood_statistics, note_statistics
from moodtune.midi.tokens import NoteEvent
from moodtune.training.recipe import train
from moodtune.training.symbolic import SymbolicTrainConfig


@pytest.fixture(scope="module")
def engine(tmp_path_factory):
    data = tmp_path_factory.mktemp("mood_data")
    prepare("builtin", None, data, limit=10, workers=2, progress=False)
    run = tmp_path_factory.mktemp("mood_run")
    cfg = SymbolicTrainConfig(data=str(data), out=str(run), epochs=40, size="small", batch_size=32)
    train(cfg, progress=False).flat()
    return load_engine(run)


def test_high_arousal_is_louder_and_denser(engine):
    stats = mood_statistics(engine, seeds=3, seconds=10)
    high = [stats[m] for m in ("happy", "angry")]
    low = [stats[m] for m in ("sad", "calm")]
    assert np.mean([s.velocity for s in high]) > np.mean([s.velocity for s in low]) + 10, stats
    assert np.mean([s.onsets_per_second for s in high]) > 1.2 * np.mean([s.onsets_per_second for s in low]), stats


def test_positive_valence_is_more_major(engine):
    stats = mood_statistics(engine, seeds=4, seconds=10)
    positive = np.mean([stats[m].thirds_major_minus_minor for m in ("happy", "calm")])
    negative = np.mean([stats[m].thirds_major_minus_minor for m in ("sad", "angry")])
    assert positive > negative + 1.0, stats
    assert stats["happy"].thirds_major_minus_minor > stats["sad"].thirds_major_minus_minor, stats


def test_note_statistics_on_known_input():
    c_major = [NoteEvent(i * 0.5, 0.5, p, 100) for i, p in enumerate([60, 64, 67, 72, 64, 60])]
    s = note_statistics(c_major, seconds=3.0)
    assert s.velocity == 100 and s.onsets_per_second == 2.0 and s.thirds_major_minus_minor == 2.0
