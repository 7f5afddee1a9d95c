"""Label encodings shared by datasets, models and engines: mood vectors and style vocabularies.

A mood label is ``[valence, arousal, known]`` (``[0, 0, 0]`` when a clip has no label); a style label
is an index into a vocabulary whose entry 0 is the unknown style.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from moodtune.errors import MoodtuneError

#: Index of the "unknown" style in every style vocabulary.
UNKNOWN_STYLE = 0


def mood_vector(valence: float | None, arousal: float | None) -> list[float]:
    """``[valence, arousal, known]``; unknown moods become ``[0, 0, 0]``."""
    if valence is None or arousal is None or math.isnan(valence) or math.isnan(arousal):
        return [0.0, 0.0, 0.0]
    return [float(valence), float(arousal), 1.0]


def request_labels(mood: Sequence[float], style: int, styles: list[str]) -> dict[str, Any]:
    """The inverse of :func:`mood_vector` plus a style id: ``valence``, ``arousal`` (None when unknown) and
    ``style`` (a name, None for the unknown style), as engines' ``reconstruct_audio`` takes them."""
    known = bool(mood[2])
    return {
        "valence": float(mood[0]) if known else None,
        "arousal": float(mood[1]) if known else None,
        "style": styles[style] if style != UNKNOWN_STYLE else None,
    }


def style_index(styles: list[str], style: str | None) -> int:
    """Index of ``style`` in a vocabulary whose entry 0 is "unknown" (None -> 0); MoodtuneError lists the known ones."""
    if style is None:
        return UNKNOWN_STYLE
    if style not in styles[1:]:
        raise MoodtuneError(f"unknown style {style!r}; this model knows: {', '.join(styles[1:]) or 'none'}")
    return styles.index(style)
