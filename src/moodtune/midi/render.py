"""Render MIDI to audio with FluidSynth and a General MIDI soundfont.

The default soundfont is the small GM bank (TimGM6mb.sf2) that the pretty_midi package ships: the built-in corpus
is rendered with it, and so the mood model learnt from it. The larger FluidR3 GM bank (Debian's
``fluid-soundfont-gm``) is named ``fluidr3`` where the system has it; any .sf2 can be given instead. Rendering is
deterministic for a given MIDI and soundfont; samples are loaded as presets ask for them, so a large bank costs
no more to open than a small one.
"""

from __future__ import annotations

import importlib.resources
import os
from pathlib import Path

import numpy as np
import pretty_midi

from moodtune.errors import MidiReadError, MoodtuneError

#: FluidSynth master gain: loud renderings peak near -1.5 dBFS with the default soundfont.
DEFAULT_GAIN = 0.55
#: Seconds of release tail rendered after the last note-off.
TAIL_SECONDS = 1.0
_BLOCK = 4096


def default_soundfont() -> Path:
    """Path of the General MIDI soundfont bundled with pretty_midi."""
    return Path(str(importlib.resources.files("pretty_midi") / "TimGM6mb.sf2"))


#: Where systems install the FluidR3 General MIDI soundfont (Debian and Ubuntu first).
FLUIDR3_PATHS = ("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/soundfonts/FluidR3_GM.sf2")


def fluidr3_soundfont() -> Path | None:
    """The FluidR3 General MIDI soundfont where it is installed (:data:`FLUIDR3_PATHS`), else None."""
    return next((Path(p) for p in FLUIDR3_PATHS if Path(p).is_file()), None)


def resolve_soundfont(path: str | os.PathLike[str] | None) -> Path:
    """The soundfont to render with: None or ``"bundled"`` for the bundled one, ``"fluidr3"`` for FluidR3 (refused
    where it is not installed), or a .sf2 file (checked to exist)."""
    if path is None or str(path) == "bundled":
        return default_soundfont()
    if str(path) == "fluidr3":
        found = fluidr3_soundfont()
        if found is None:
            raise MoodtuneError(
                "soundfont fluidr3: FluidR3_GM is not installed; install the system package fluid-soundfont-gm "
                "(make does it when run as root)"
            )
        return found
    sf2 = Path(path)
    if not sf2.is_file():
        raise MoodtuneError(f"soundfont not found: {sf2} (give a .sf2 file, 'bundled' or 'fluidr3')")
    return sf2


def _import_fluidsynth():
    try:
        import fluidsynth  # type: ignore[import-untyped]
    except ImportError as exc:  # the C library libfluidsynth is missing
        raise MoodtuneError(
            "FluidSynth is not available: install the system package libfluidsynth3 (apt-get install libfluidsynth3)"
        ) from exc
    return fluidsynth


class FluidSynthRenderer:
    """Renders MIDI with FluidSynth and one soundfont; identical input gives identical audio.

    >>> audio = FluidSynthRenderer(sr=22050).render(midi)  # float32 [T], mono
    """

    def __init__(
        self, soundfont: str | os.PathLike[str] | None = None, sr: int = 22050, gain: float = DEFAULT_GAIN
    ) -> None:
        self._fluidsynth = _import_fluidsynth()
        self.soundfont = resolve_soundfont(soundfont)
        self.sr = sr
        self.gain = gain
        self._synth = None
        self._sfid = -1

    def _fresh_synth(self) -> None:
        """A new synthesizer per render: reverb tails and dither state never leak between renders."""
        self.close()
        settings = {"synth.dynamic-sample-loading": 1}
        self._synth = self._fluidsynth.Synth(samplerate=float(self.sr), gain=self.gain, **settings)
        self._sfid = self._synth.sfload(str(self.soundfont))
        if self._sfid < 0:
            raise MoodtuneError(f"{self.soundfont}: FluidSynth could not load this soundfont")

    def close(self) -> None:
        """Free the synthesizer."""
        if self._synth is not None:
            self._synth.delete()
            self._synth = None

    def __enter__(self) -> FluidSynthRenderer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _assign_channels(self, pm: pretty_midi.PrettyMIDI) -> list[int]:
        """One channel per instrument: drums on 9, melodic instruments on the other 15 (shared past 15)."""
        melodic = [c for c in range(16) if c != 9]
        channels, used = [], 0
        for inst in pm.instruments:
            if inst.is_drum:
                channels.append(9)
            else:
                channels.append(melodic[used % len(melodic)])
                used += 1
        return channels

    def render(self, pm: pretty_midi.PrettyMIDI, max_seconds: float | None = None) -> np.ndarray:
        """Render ``pm`` to mono float32 ``[T]`` at ``self.sr`` (release tail included, at most ``max_seconds``)."""
        self._fresh_synth()
        synth = self._synth
        events: list[tuple[float, int, int, int, int]] = []  # (time, order, channel, pitch, velocity)
        for inst, chan in zip(pm.instruments, self._assign_channels(pm), strict=True):
            bank = 128 if inst.is_drum else 0
            if synth.program_select(chan, self._sfid, bank, inst.program) == -1:
                synth.program_select(chan, self._sfid, bank, 0)
            for note in inst.notes:
                if note.end <= note.start:
                    continue
                events.append((note.start, 1, chan, note.pitch, note.velocity))
                events.append((note.end, 0, chan, note.pitch, 0))
        if not events:
            return np.zeros(0, dtype=np.float32)
        events.sort()
        end_time = events[-1][0] + TAIL_SECONDS
        if max_seconds is not None:
            end_time = min(end_time, max_seconds)
        total = round(end_time * self.sr)
        out = np.zeros(total, dtype=np.float32)
        pos = 0
        for time, is_on, chan, pitch, velocity in events:
            target = min(round(time * self.sr), total)
            pos = self._fill(out, pos, target)
            if pos >= total:
                break
            if is_on:
                synth.noteon(chan, pitch, velocity)
            else:
                synth.noteoff(chan, pitch)
        self._fill(out, pos, total)
        self.close()
        return out

    def _fill(self, out: np.ndarray, pos: int, target: int) -> int:
        while pos < target:
            n = min(_BLOCK, target - pos)
            stereo = np.asarray(self._synth.get_samples(n), dtype=np.float32).reshape(-1, 2)
            out[pos : pos + n] = stereo.mean(axis=1) / 32768.0
            pos += n
        return pos


def load_midi(path: str | os.PathLike[str]) -> pretty_midi.PrettyMIDI:
    """Read a MIDI file; :class:`~moodtune.errors.MidiReadError` names the file if it is not a regular file (a FIFO
    would block the read), is corrupt or has no notes."""
    if not Path(path).is_file():
        what = "no such file" if not Path(path).exists() else "not a regular file"
        raise MidiReadError(f"{path}: {what}")
    try:
        pm = pretty_midi.PrettyMIDI(str(path))
    except Exception as exc:  # mido/pretty_midi raise many types on corrupt data
        raise MidiReadError(f"{path}: corrupt or unreadable MIDI ({type(exc).__name__}: {exc})") from exc
    if not any(inst.notes for inst in pm.instruments):
        raise MidiReadError(f"{path}: MIDI file has no notes")
    return pm
