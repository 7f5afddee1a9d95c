import numpy as np

from moodtune.evaluation.descriptors import DESCRIPTOR_SIZE, MoodDescriptors
from tests.conftest import music_like

SR = 22050
LOUD = slice(32, 35)
ONSET_RATE = 37
MAJOR_MINUS_MINOR = 45


def chord(pitches, seconds=4.0, notes_per_second=2.0, amplitude=0.3):
    t = np.arange(int(seconds * SR)) / SR
    phase = (t * notes_per_second) % 1.0
    env = np.exp(-5 * phase)
    tone = sum(np.sin(2 * np.pi * 440 * 2 ** ((p - 69) / 12) * t) for p in pitches)
    return (amplitude * env * tone / len(pitches)).astype(np.float32)


def melody(pitches, seconds=4.0):
    """One pitch after another over a sustained tonic in the bass."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    step = n // len(pitches)
    out = 0.5 * np.sin(2 * np.pi * 440 * 2 ** ((48 - 69) / 12) * t)
    for i, p in enumerate(pitches):
        seg = slice(i * step, (i + 1) * step)
        out[seg] += np.sin(2 * np.pi * 440 * 2 ** ((p - 69) / 12) * t[seg]) * np.exp(-3 * (t[seg] - t[seg][0]))
    return (0.2 * out).astype(np.float32)


def test_shape_windows_and_short_input():
    d = MoodDescriptors()
    x = d.compute(music_like(8.0, SR))
    assert x.shape == (3, DESCRIPTOR_SIZE) and np.isfinite(x).all()
    assert d.compute(music_like(1.0, SR)).shape == (1, DESCRIPTOR_SIZE)
    assert d.compute(music_like(10.0, SR), hop_s=1.0).shape == (7, DESCRIPTOR_SIZE)


def test_descriptors_move_the_expected_way():
    d = MoodDescriptors()
    quiet, loud = d.compute(chord([60, 64, 67], amplitude=0.05)), d.compute(chord([60, 64, 67], amplitude=0.5))
    assert (loud[0, LOUD] > quiet[0, LOUD]).all()
    slow, fast = (
        d.compute(chord([60, 64, 67], notes_per_second=1.0)),
        d.compute(chord([60, 64, 67], notes_per_second=6)),
    )
    assert fast[0, ONSET_RATE] > slow[0, ONSET_RATE]
    major = d.compute(melody([60, 64, 67, 72, 67, 64, 62, 65, 69, 67, 64, 60]))
    minor = d.compute(melody([60, 63, 67, 72, 67, 63, 62, 65, 68, 67, 63, 60]))
    assert major[0, MAJOR_MINUS_MINOR] > 0 > minor[0, MAJOR_MINUS_MINOR]
