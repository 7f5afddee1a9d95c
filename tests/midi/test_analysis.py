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
