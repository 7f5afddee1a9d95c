"""Shared by the adapters that render MIDI to audio (``builtin`` and ``midi``) or keep it as MIDI."""

from __future__ import annotations

import numpy as np
import pretty_midi

from moodtune.audio.io import SILENCE_PEAK, write_wav
from moodtune.data.adapters.base import Context, slug
from moodtune.errors import AudioReadError
from moodtune.fsutil import atomic_path
from moodtune.midi.render import FluidSynthRenderer


def render_and_store(
    renderer: FluidSynthRenderer,
    pm: pretty_midi.PrettyMIDI,
    ctx: Context,
    name: str,
    source_label: str,
    max_seconds: float | None = None,
    keep_midi: bool = False,
) -> tuple[np.ndarray, str, str]:
    """Render ``pm``, write ``audio/<name>.wav`` (and ``midi/<name>.mid`` when ``keep_midi``) under the output folder.

    Returns ``(audio [T] float32 at ctx.sr, wav path, midi path or "")``. Raises AudioReadError
    naming ``source_label`` when the rendering is silent.
    """
    audio = renderer.render(pm, max_seconds=max_seconds)
    if audio.size == 0 or float(np.max(np.abs(audio))) < SILENCE_PEAK:
        raise AudioReadError(f"{source_label}: rendering is silent (no audible notes)")
    wav = write_wav(ctx.out_dir / "audio" / f"{_stem(name)}.wav", audio, ctx.sr)
    return audio, str(wav), store_midi(pm, ctx, name) if keep_midi else ""


def _stem(name: str) -> str:
    return "/".join(slug(part) for part in name.split("/"))


def store_midi(pm: pretty_midi.PrettyMIDI, ctx: Context, name: str) -> str:
    """Write ``pm`` to ``midi/<name>.mid`` under the output folder, atomically; returns the path."""
    target = ctx.out_dir / "midi" / f"{_stem(name)}.mid"
    with atomic_path(target) as tmp:
        pm.write(str(tmp))
    return str(target)
