"""The model families moodtune knows, as data: name -> where its engine, training recipe and config live.

``load_engine``, the CLI's choices, evaluation and checkpoints all read this table, so adding a family
means adding its modules and one entry here; no existing engine file changes. Entries are
``"module:attribute"`` strings, imported only when a family is used.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from moodtune.errors import MoodtuneError


@dataclass(frozen=True)
class Family:
    """One model family: a short description and the ``module:attribute`` of its pieces."""

    name: str
    summary: str
    engine: str
    recipe: str
    config: str


FAMILIES: dict[str, Family] = {
    f.name: f
    for f in (
        Family(
            "spectrogram",
            "conditional conv VAE on log-mel slices + Griffin-Lim vocoder",
            "moodtune.engines.spectrogram:SpectrogramEngine",
            "moodtune.training.spectrogram:SpectrogramRecipe",
            "moodtune.training.spectrogram:SpectrogramTrainConfig",
        ),
        Family(
            "symbolic",
            "LSTM over note tokens -> MIDI, rendered audio and engraved score",
            "moodtune.engines.symbolic:SymbolicEngine",
            "moodtune.training.symbolic:SymbolicRecipe",
            "moodtune.training.symbolic:SymbolicTrainConfig",
        ),
        Family(
            "sequence",
            "LSTM + adversarial loss over a spectrogram VAE's latents: continuation and mood curves",
            "moodtune.engines.sequence:SequenceEngine",
            "moodtune.training.sequence:SequenceRecipe",
            "moodtune.training.sequence:SequenceTrainConfig",
        ),
        Family(
            "waveform",
            "1-D ResNet conditional VAE on raw audio windows",
            "moodtune.engines.waveform:WaveformEngine",
            "moodtune.training.waveform:WaveformRecipe",
            "moodtune.training.waveform:WaveformTrainConfig",
        ),
        Family(
            "latent",
            "emotional VAE over neural-codec latents (EnCodec, or a spectrogram VAE as codec)",
            "moodtune.engines.latent:LatentEngine",
            "moodtune.training.latent:LatentRecipe",
            "moodtune.training.latent:LatentTrainConfig",
        ),
    )
}


def family(name: str) -> Family:
    """The family called ``name``; MoodtuneError lists the known ones."""
    if name not in FAMILIES:
        raise MoodtuneError(f"unknown engine {name!r}; known engines: {', '.join(FAMILIES)}")
    return FAMILIES[name]


def resolve(target: str) -> Any:
    """Import ``"module:attribute"`` and return the attribute."""
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)
