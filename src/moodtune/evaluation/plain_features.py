"""Plain features of audio that anyone can check without a mood model: onset rate and RMS level.

They follow arousal in music (faster, louder music has more onsets and more level), so the evaluation
reports their median per asked mood beside the mood model's reading.
"""

from __future__ import annotations

from collections.abc import Sequence

import librosa
import numpy as np

from moodtune.mood import QUADRANT_MOODS, Mood

#: Quadrant moods of high and of low arousal.
HIGH_AROUSAL = tuple(m for m in QUADRANT_MOODS if Mood.named(m).arousal > 0)
LOW_AROUSAL = tuple(m for m in QUADRANT_MOODS if Mood.named(m).arousal < 0)


def onset_rate(audio: np.ndarray, sr: int) -> float:
    """Detected note onsets per second of ``audio [T]`` (spectral-flux onsets, librosa's defaults)."""
    if len(audio) == 0:
        return 0.0
    onsets = librosa.onset.onset_detect(y=np.asarray(audio, np.float32), sr=sr, units="time")
    return float(len(onsets) / (len(audio) / sr))


def rms_level(audio: np.ndarray) -> float:
    """Root-mean-square level of ``audio [T]``."""
    return float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if len(audio) else 0.0


def per_mood_medians(audio: Sequence[np.ndarray], sr: int, groups: Sequence[str]) -> dict[str, dict[str, float]]:
    """``{mood: {"onsets_per_s", "rms", "n"}}``: medians over the clips asked for each mood."""
    out: dict[str, dict[str, float]] = {}
    for mood in dict.fromkeys(groups):
        clips = [a for a, g in zip(audio, groups, strict=True) if g == mood]
        out[mood] = {
            "onsets_per_s": round(float(np.median([onset_rate(a, sr) for a in clips])), 3),
            "rms": round(float(np.median([rms_level(a) for a in clips])), 4),
            "n": len(clips),
        }
    return out


def arousal_order_holds(medians: dict[str, dict[str, float]], feature: str) -> bool | None:
    """Whether every high-arousal mood's median ``feature`` exceeds every low-arousal mood's (None when a
    quadrant is missing)."""
    if not all(m in medians for m in HIGH_AROUSAL + LOW_AROUSAL):
        return None
    return min(medians[m][feature] for m in HIGH_AROUSAL) > max(medians[m][feature] for m in LOW_AROUSAL)
