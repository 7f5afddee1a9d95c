import numpy as np

from moodtune.evaluation.plain_features import arousal_order_holds, onset_rate, per_mood_medians, rms_level

SR = 22050


def clicks(per_second: float, seconds: float = 4.0, level: float = 0.5) -> np.ndarray:
    """Decaying 440 Hz notes, ``per_second`` of them, each 50 ms long."""
    audio = np.zeros(int(seconds * SR), np.float32)
    t = np.arange(int(0.05 * SR)) / SR
    note = (level * np.sin(2 * np.pi * 440 * t) * np.exp(-t * 60)).astype(np.float32)
    for start in np.arange(0, seconds - 0.05, 1.0 / per_second):
        i = int(start * SR)
        audio[i : i + len(note)] += note
    return audio


def test_onset_rate_counts_notes():
    slow, fast = onset_rate(clicks(2), SR), onset_rate(clicks(8), SR)
    assert 1.0 <= slow <= 3.0 and 6.0 <= fast <= 10.0
    assert onset_rate(np.zeros(0, np.float32), SR) == 0.0


def test_rms_level_of_a_constant():
    assert rms_level(np.full(100, 0.5, np.float32)) == 0.5
    assert rms_level(np.zeros(0, np.float32)) == 0.0


def test_medians_and_the_arousal_order():
    audio = [clicks(8, level=0.6), clicks(6, level=0.5), clicks(2, level=0.1), clicks(2, level=0.2)]
    groups = ["happy", "angry", "sad", "calm"]
    medians = per_mood_medians(audio, SR, groups)
    assert list(medians) == groups and all(m["n"] == 1 for m in medians.values())
    assert arousal_order_holds(medians, "onsets_per_s") and arousal_order_holds(medians, "rms")
    swapped = per_mood_medians(audio[::-1], SR, groups)
    assert arousal_order_holds(swapped, "rms") is False
    assert arousal_order_holds({"happy": medians["happy"]}, "rms") is None
