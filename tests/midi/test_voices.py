import pretty_midi
import pytest

from moodtune.errors import MoodtuneError
from moodtune.midi.instruments import ensemble, instrument_label, parse_instruments, program_of
from moodtune.midi.tokens import NoteEvent, midi_notes, tracks_to_midi
from moodtune.midi.voices import TRACKS, split_voices


def _texture() -> list[NoteEvent]:
    """A tune over a bass and a held chord: C5 D5 E5 (quarters at 120 BPM) above C3, with E4+G4 held for the bar;
    at 1.5 s the tune holds E5 while B3 enters below it."""
    tune = [NoteEvent(i * 0.5, 0.5, p, 90) for i, p in enumerate((72, 74, 76))]
    tune[-1] = NoteEvent(1.0, 1.0, 76, 90)
    chord = [NoteEvent(0.0, 2.0, p, 60) for p in (64, 67)]
    bass = [NoteEvent(0.0, 1.0, 48, 70), NoteEvent(1.0, 1.0, 43, 70)]
    inner = [NoteEvent(1.5, 0.5, 59, 60)]
    return tune + chord + bass + inner


def test_voices_split_a_tune_from_its_chords_and_bass():
    tracks = split_voices(_texture())
    assert [n.pitch for n in tracks["melody"]] == [72, 74, 76]
    assert [n.pitch for n in tracks["bass"]] == [48, 43]
    assert sorted(n.pitch for n in tracks["accompaniment"]) == [59, 64, 67]  # B3 enters above the held bass
    every = sorted((n for t in TRACKS for n in tracks[t]), key=lambda n: (n.start, n.pitch))
    assert every == sorted(_texture(), key=lambda n: (n.start, n.pitch))  # each note in exactly one track, unchanged


def test_a_lower_note_under_a_held_melody_note_accompanies():
    held = [NoteEvent(0.0, 2.0, 79, 90), NoteEvent(0.5, 0.5, 67, 60), NoteEvent(1.0, 0.5, 72, 60)]
    tracks = split_voices(held)
    assert [n.pitch for n in tracks["melody"]] == [79] and [n.pitch for n in tracks["accompaniment"]] == [67, 72]
    assert tracks["bass"] == []


def test_tracks_are_written_with_their_names_and_programs(tmp_path):
    programs = parse_instruments("piano,strings,bass")
    pm = tracks_to_midi(split_voices(_texture()), programs, tempo=120.0, beats_per_bar=4)
    pm.write(str(tmp_path / "t.mid"))
    read = pretty_midi.PrettyMIDI(str(tmp_path / "t.mid"))
    assert {(i.name, i.program) for i in read.instruments} == {("melody", 0), ("accompaniment", 48), ("bass", 32)}
    assert len(midi_notes(read)) == len(_texture())


def test_instruments_by_name_gm_name_or_number():
    assert program_of("Piano") == 0 and program_of("strings") == 48 and program_of("string ensemble 1") == 48
    assert program_of("Acoustic Bass") == 32 and program_of("73") == 73 and program_of("slow strings") == 49
    assert parse_instruments("flute") == {"melody": 73, "accompaniment": 73, "bass": 73}
    assert parse_instruments("flute, harp") == {"melody": 73, "accompaniment": 46, "bass": 46}
    assert instrument_label(48) == "strings" and instrument_label(1 + 2) == "Honky-tonk Piano"
    assert ensemble((40, 40, 41, 42)) == {"melody": 40, "accompaniment": 41, "bass": 42}
    for bad, message in [
        ("kazoo", "unknown instrument 'kazoo'"),
        ("128", "0-127"),
        ("piano,,bass", "one to three"),
        ("a,b,c,d", "one to three"),
    ]:
        with pytest.raises(MoodtuneError, match=message):
            parse_instruments(bad)
