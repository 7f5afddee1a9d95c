"""moodtune: mood-conditioned music generation.

>>> import moodtune
>>> engine = moodtune.load("symbolic")  # a shipped model by name, or any run folder
>>> result = engine.generate(moodtune.Request(mood=moodtune.Mood.named("happy"), seconds=20))
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

#: Names this package exports, imported on first use (so ``import moodtune`` stays light).
_LAZY = {
    "load": "moodtune.api",
    "load_engine": "moodtune.engines.base",
    "Request": "moodtune.engines.base",
    "Result": "moodtune.engines.base",
    "Mood": "moodtune.mood",
    "Trajectory": "moodtune.mood",
}
__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'moodtune' has no attribute {name!r}")
