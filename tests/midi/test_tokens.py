import pytest

from moodtune.errors import MidiReadError
from moodtune.midi.tokens import (
    NoteEvent,
    NotesTokenizer,
    TimedTokenizer,
    normal_order,
    parse_pitch_name,
    pitch_name,
    tokenizer_from_dict,
)


def _melody():
    return [
        NoteEvent(0.00, 0.50, 60, 100),
        NoteEvent(0.00, 0.50, 64, 100),
        NoteEvent(0.51, 0.24, 67, 40),
        NoteEvent(0.77, 1.02, 72, 41),
        NoteEvent(3.20, 0.10, 48, 127),  # a rest longer than one SHIFT token
    ]


def test_timed_round_trip_within_the_quantisation_step():
    tok = TimedTokenizer(step=0.05)
    notes = _melody()
    back = tok.decode(tok.encode(notes))
    assert len(back) == len(notes)
    for a, b in zip(sorted(notes, key=lambda n: (n.start, n.pitch)), back, strict=True):
        assert a.pitch == b.pitch
        assert abs(a.start - b.start) <= tok.step / 2 + 1e-9
        assert abs(a.duration - b.duration) <= tok.step / 2 + 1e-9
        assert abs(a.velocity - b.velocity) <= 128 // tok.VELOCITY_BINS


def test_timed_tokens_carry_rests_and_velocity_changes_once():
    tok = TimedTokenizer(step=0.05)
    tokens = tok.encode(_melody())
    assert tokens[:5] == ["VEL_12", "PITCH_60", "DUR_10", "PITCH_64", "DUR_10"]
    assert tokens.count("VEL_5") == 1  # 40 and 41 share a bin: no second VEL token
    assert "SHIFT_32" in tokens  # 2.45 s of rest needs more than one shift
    assert tokenizer_from_dict(tok.to_dict()).vocabulary == tok.vocabulary


def test_notes_tokens_are_pitch_names_and_normal_orders():
    tok = NotesTokenizer()
    notes = [
        NoteEvent(0, 0.5, 60, 80),
        NoteEvent(0, 0.5, 64, 80),
        NoteEvent(0, 0.5, 67, 80),
        NoteEvent(0.5, 0.5, 71, 80),
    ]
    assert tok.encode(notes) == ["0.4.7", "B4"]
    fitted = tok.fit([tok.encode(notes)])
    back = fitted.decode(["0.4.7", "B4"])
    assert sorted(n.pitch % 12 for n in back if n.start == 0) == [0, 4, 7]
    assert [n.pitch for n in back if n.start > 0] == [71]
    with pytest.raises(MidiReadError, match="unknown to this vocabulary"):
        fitted.ids(["C#2"])


def test_normal_order_and_pitch_names():
    assert normal_order([7, 11, 2]) == [7, 11, 2]  # G major triad
    assert normal_order([0, 4, 7]) == [0, 4, 7]
    assert normal_order([2, 5, 7, 11]) == [11, 2, 5, 7]  # G7: B-D-F-G spans 8 semitones, the least
    for p in (21, 60, 61, 70, 108):
        assert parse_pitch_name(pitch_name(p)) == p
    assert pitch_name(60) == "C4" and pitch_name(70) == "B-4"


def test_pieces_move_to_a_c_tonic_and_keep_their_mode():
    from moodtune.midi.analysis import to_c_tonic
    from moodtune.midi.tokens import NoteEvent

    def piece(tonic, third):  # tonic-third-fifth arpeggios and a scale, ending on the tonic in the bass
        steps = [0, third, 7, 12, 7, third, 0, 2, third, 5, 7, 0]
        return [NoteEvent(i * 0.5, 0.5, 48 + tonic + s, 90) for i, s in enumerate(steps)]

    for tonic in range(12):
        major = {n.pitch % 12 for n in to_c_tonic(piece(tonic, 4))}
        minor = {n.pitch % 12 for n in to_c_tonic(piece(tonic, 3))}
        assert 0 in major and 4 in major and 3 not in major, tonic
        assert 0 in minor and 3 in minor and 4 not in minor, tonic
        shifted = to_c_tonic(piece(tonic, 4))
        assert all(abs(a.pitch - b.pitch) <= 6 for a, b in zip(shifted, piece(tonic, 4), strict=True))
