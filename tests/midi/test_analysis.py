import pytest

from moodtune.midi.analysis import estimate_key, to_parallel_mode

C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]
A_MINOR = [57, 59, 60, 62, 64, 65, 67, 69, 57, 60, 64, 57]


def test_estimate_key_major_and_minor():
    assert estimate_key(C_MAJOR, [2, 1, 1, 1, 2, 1, 1, 2]) == (0, "major")
    assert estimate_key(A_MINOR) == (9, "minor")
    assert estimate_key([p + 7 for p in C_MAJOR], [2, 1, 1, 1, 2, 1, 1, 2]) == (7, "major")


def test_parallel_mode_round_trip_on_scales():
    minor = [to_parallel_mode(p, 0, "major") for p in C_MAJOR]
    assert minor == [60, 62, 63, 65, 67, 68, 70, 72]  # C natural minor
    assert [to_parallel_mode(p, 0, "minor") for p in minor] == C_MAJOR
    # the raised leading tone of harmonic minor stays
    assert to_parallel_mode(71, 0, "minor") == 71


def test_empty_key_raises():
    with pytest.raises(ValueError):
        estimate_key([])


def test_key_signature_and_final_bass_resolve_relative_and_dominant_confusions():
    # A-minor material whose profile alone could read as C major: the final bass A decides.
    notes = [60, 64, 67, 72, 69, 64, 60, 57]
    assert estimate_key(notes, final_bass=45, sharps=0) == (9, "minor")
    assert estimate_key(notes, final_bass=48, sharps=0) == (0, "major")
    # With one sharp only G major / E minor are candidates, whatever the profile prefers.
    d_major_ish = [62, 66, 69, 74, 62, 66, 69, 67, 71]
    assert estimate_key(d_major_ish, sharps=1)[0] in (7, 4)


def test_a_piece_moves_into_every_asked_key():
    from moodtune.midi.analysis import estimated_key, parse_key, to_key
    from moodtune.midi.tokens import NoteEvent

    # a C major tune over a I-IV-V-I bass, and an A minor one: each moved into all 24 keys reads as that key
    c_major = [60, 62, 64, 65, 67, 65, 64, 62, 64, 65, 67, 69, 71, 72, 67, 60]
    a_minor = [57, 59, 60, 62, 64, 62, 60, 59, 60, 62, 64, 65, 68, 69, 64, 57]
    for tune, bass in ((c_major, [48, 53, 55, 48]), (a_minor, [45, 50, 52, 45])):
        piece = [NoteEvent(i * 0.5, 0.5, p, 80) for i, p in enumerate(tune)]
        piece += [NoteEvent(i * 2.0, 2.0, p, 70) for i, p in enumerate(bass)]
        for name in ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B"):
            for mode in ("major", "minor"):
                assert estimated_key(to_key(piece, *parse_key(f"{name} {mode}"))) == parse_key(f"{name} {mode}")


def test_keys_are_parsed_or_refused():
    from moodtune.errors import MoodtuneError
    from moodtune.midi.analysis import parse_key

    assert parse_key("D major") == (2, "major") and parse_key(" f# Minor ") == (6, "minor")
    assert parse_key("Bb major") == (10, "major") and parse_key("Cb minor") == (11, "minor")
    for bad in ("H major", "D", "D dorian", "", "D major minor"):
        with pytest.raises(MoodtuneError, match="unknown key"):
            parse_key(bad)


def test_a_harmonic_move_into_minor_keeps_the_leading_tone():
    from moodtune.midi.analysis import to_key
    from moodtune.midi.tokens import NoteEvent

    cadence = [NoteEvent(0.0, 1.0, p, 80) for p in (55, 59, 62, 65)] + [
        NoteEvent(1.0, 1.0, p, 80) for p in (48, 64, 67)
    ]
    plain = {n.pitch for n in to_key(cadence, 9, "minor", source=(0, "major"))}  # V7 - I in C, into A minor
    kept = {n.pitch for n in to_key(cadence, 9, "minor", source=(0, "major"), harmonic=True)}
    assert 56 in kept and 56 not in plain  # G# (the leading tone of A) stays sharp, natural minor lowers it to G
    assert 60 in kept and 60 in plain  # the third of the tonic chord is minor either way
