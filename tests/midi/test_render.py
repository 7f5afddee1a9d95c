import numpy as np
import pretty_midi
import pytest

from moodtune.errors import MidiReadError
from moodtune.midi.render import TAIL_SECONDS, FluidSynthRenderer, load_midi


def _single_note(pitch: int, velocity: int, seconds: float = 1.0) -> pretty_midi.PrettyMIDI:
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program=0)
    inst.notes.append(pretty_midi.Note(velocity, pitch, 0.0, seconds))
    pm.instruments.append(inst)
    return pm


def test_render_a4_has_its_pitch_and_length():
    with FluidSynthRenderer(sr=22050) as r:
        audio = r.render(_single_note(69, 100))
    assert audio.dtype == np.float32 and len(audio) == round((1.0 + TAIL_SECONDS) * 22050)
    spec = np.abs(np.fft.rfft(audio[:11025]))
    freqs = np.fft.rfftfreq(11025, 1 / 22050)
    assert abs(freqs[np.argmax(spec)] - 440.0) < 5.0


def test_velocity_controls_loudness_and_renders_repeat_identically():
    with FluidSynthRenderer(sr=22050) as r:
        soft = r.render(_single_note(60, 30))
        loud = r.render(_single_note(60, 110))
        loud_again = r.render(_single_note(60, 110))
    rms = lambda x: float(np.sqrt(np.mean(x**2)))  # noqa: E731
    assert rms(loud) > 2 * rms(soft)
    np.testing.assert_allclose(loud, loud_again, atol=1e-6)


def test_max_seconds_caps_length():
    with FluidSynthRenderer(sr=16000) as r:
        assert len(r.render(_single_note(60, 80, 5.0), max_seconds=2.0)) == 32000


def test_corrupt_and_empty_midi_are_named(tmp_path):
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    with pytest.raises(MidiReadError, match=r"bad\.mid: corrupt"):
        load_midi(bad)
    empty = tmp_path / "empty.mid"
    pretty_midi.PrettyMIDI().write(str(empty))
    with pytest.raises(MidiReadError, match=r"empty\.mid: MIDI file has no notes"):
        load_midi(empty)


def test_soundfonts_by_name_and_a_missing_fluidr3_is_named(monkeypatch):
    from moodtune.errors import MoodtuneError
    from moodtune.midi import render

    assert render.resolve_soundfont(None) == render.resolve_soundfont("bundled") == render.default_soundfont()
    monkeypatch.setattr(render, "FLUIDR3_PATHS", ("/nonexistent/FluidR3_GM.sf2",))
    with pytest.raises(MoodtuneError, match="fluid-soundfont-gm"):
        render.resolve_soundfont("fluidr3")
    with pytest.raises(MoodtuneError, match=r"soundfont not found: nope\.sf2"):
        render.resolve_soundfont("nope.sf2")


def test_a_large_soundfont_renders_what_the_small_one_does_in_its_own_voice(tmp_path):
    """FluidR3 where installed (make installs it as root), else the bundled bank copied under another name."""
    import shutil

    from moodtune.midi.render import default_soundfont, fluidr3_soundfont

    other = fluidr3_soundfont() or shutil.copy(default_soundfont(), tmp_path / "copy.sf2")
    with FluidSynthRenderer(sr=22050) as r:
        small = r.render(_single_note(69, 100))
    with FluidSynthRenderer(other, sr=22050) as r:
        large = r.render(_single_note(69, 100))
    assert len(large) == len(small)
    spec = np.abs(np.fft.rfft(large[:11025]))
    assert abs(np.fft.rfftfreq(11025, 1 / 22050)[np.argmax(spec)] - 440.0) < 5.0
