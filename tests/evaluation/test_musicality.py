"""The musicality measures on hand-made pieces with known answers, and on MIDI files."""

import math

import numpy as np
import pretty_midi
import pytest

from moodtune.evaluation import musicality as mu
from moodtune.evaluation.symbolic_metrics import GridNote, GridPiece, piece_from_midi

R = 4  # ticks per beat: a bar of 4/4 is 16 ticks, one tick per sixteenth


def piece(notes, downbeats=(), first_bar=0, ticks=0, seconds=8.0):
    return GridPiece(tuple(GridNote(*n) for n in notes), R, seconds, tuple(downbeats), first_bar, ticks)


def test_a_scale_is_all_steps_and_leaps_are_not():
    scale = piece([(i * R, (i + 1) * R, p) for i, p in enumerate([60, 62, 64, 65, 67, 69, 71, 72])])
    assert mu.topline_stepwise(scale) == 1.0
    arpeggio = piece([(i * R, (i + 1) * R, p) for i, p in enumerate([60, 64, 67, 72, 67, 64, 60])])
    assert mu.topline_stepwise(arpeggio) == 0.0
    assert math.isnan(mu.topline_stepwise(piece([(0, 4, 60)])))


def test_the_top_line_follows_the_highest_voice_over_an_accompaniment():
    # a held melody note is one entry, whatever moves below it; the bass never enters the top line
    melody = [(0, 8, 72), (8, 12, 74), (12, 16, 76), (16, 32, 77)]
    bass = [(t, t + 2, 48 + (t // 2) % 7 * 3) for t in range(0, 32, 2)]
    p = piece(melody + bass)
    assert mu.top_line(p) == [72, 74, 76, 77]
    assert mu.topline_stepwise(p) == 1.0


def test_onsets_within_30_ms_are_one_onset():
    # at 120 BPM with 4 ticks per beat a tick is 125 ms: use 480 ticks per beat (about 1 ms a tick)
    fine = GridPiece((GridNote(0, 480, 60), GridNote(20, 480, 76), GridNote(480, 960, 62)), 480, 1.0, (), 0, 960)
    assert mu.top_line(fine) == [76, 62]  # the 60 and the 76 20 ms later are one onset: its top is 76
    apart = GridPiece((GridNote(0, 480, 60), GridNote(60, 480, 76), GridNote(480, 960, 62)), 480, 1.0, (), 0, 960)
    assert mu.top_line(apart) == [60, 76, 62]


def test_a_repeated_bar_recurs_and_new_bars_do_not():
    bar = [(0, 4, 60), (4, 8, 64), (8, 12, 67), (12, 16, 64)]
    repeated = piece([(s + 16 * k, e + 16 * k, p) for k in range(4) for s, e, p in bar])
    assert mu.bar_recurrence(repeated) == 1.0
    new = piece([(s + 16 * k, e + 16 * k, p + 2 * k) for k in range(4) for s, e, p in bar])  # each bar moved up
    assert mu.bar_recurrence(new) == 0.0
    # A A B A: of the three bars after the first, the second A and the last A recur
    aaba = piece([(s + 16 * k, e + 16 * k, p + (5 if k == 2 else 0)) for k in range(4) for s, e, p in bar])
    assert mu.bar_recurrence(aaba) == pytest.approx(2 / 3)


def test_bar_recurrence_splits_at_the_pieces_own_bar_lines():
    # 3/4: bars of 12 ticks; read as 4/4 the same notes would not line up
    bar = [(0, 4, 60), (4, 8, 64), (8, 12, 67)]
    waltz = [(s + 12 * k, e + 12 * k, p) for k in range(4) for s, e, p in bar]
    assert mu.bar_recurrence(piece(waltz, downbeats=(0, 12, 24, 36), ticks=48)) == 1.0
    assert mu.bar_recurrence(piece(waltz)) < 0.5


def test_triads_and_sevenths_are_clear_clusters_are_not():
    for chord in ([60, 64, 67], [60, 63, 67], [59, 62, 65], [60, 64, 68], [67, 71, 74, 77], [62, 65, 69, 72]):
        assert mu.chord_clarity(piece([(0, 16, p) for p in chord])) == 1.0, chord
    assert mu.chord_clarity(piece([(0, 16, p) for p in (60, 61, 62)])) == 0.0
    assert mu.chord_clarity(piece([(0, 16, p) for p in (60, 64, 67, 69, 71)])) == 0.0
    # a single voice has no chord to judge
    assert math.isnan(mu.chord_clarity(piece([(0, 16, 60)])))


TONIC, IV, V7 = [48, 64, 67, 72], [53, 65, 69, 72], [43, 62, 65, 71]


def _cadence_piece(last_chord, next_chord=None):
    """Two phrases in C major: I IV V7 I, then I IV V7 ``last_chord``; a ninth bar ``next_chord`` when given."""
    chords = [TONIC, IV, V7, TONIC, TONIC, IV, V7, last_chord] + ([next_chord] if next_chord else [])
    return piece([(16 * k, 16 * (k + 1), p) for k, chord in enumerate(chords) for p in chord])


def test_a_phrase_that_closes_on_the_tonic_is_a_cadence():
    assert mu.cadence_rate(_cadence_piece(TONIC)) == 1.0
    assert mu.cadence_rate(_cadence_piece([50, 65, 69, 74])) == 0.5  # the second phrase ends on ii
    # ends on V: a cadence only when the next bar brings the tonic
    assert mu.cadence_rate(_cadence_piece([43, 62, 67, 71], TONIC)) == 1.0
    assert mu.cadence_rate(_cadence_piece([43, 62, 67, 71], [45, 64, 69, 72])) == 0.5


def test_phrase_ends_count_from_the_pieces_first_bar():
    # a clip that starts at the piece's third bar ends a phrase at its second bar
    chords = [[48, 64, 67, 72], [50, 65, 69, 74]]
    p = piece([(16 * k, 16 * (k + 1), q) for k, c in enumerate(chords) for q in c], first_bar=2)
    assert mu.cadence_rate(p) == 0.0  # its second bar is the piece's fourth, and ends on ii
    assert math.isnan(mu.cadence_rate(piece([(16 * k, 16 * (k + 1), q) for k, c in enumerate(chords) for q in c])))


def test_shuffling_in_time_keeps_the_notes_and_breaks_the_order():
    bar = [(0, 4, 60), (4, 8, 62), (8, 12, 64), (12, 16, 65)]
    p = piece([(s + 16 * k, e + 16 * k, q + 7 * (k % 2)) for k in range(8) for s, e, q in bar])
    shuffled = mu.shuffled_in_time(p, np.random.default_rng(0))
    assert sorted(n.pitch for n in shuffled.notes) == sorted(n.pitch for n in p.notes)
    assert sorted(n.start for n in shuffled.notes) == sorted(n.start for n in p.notes)
    assert mu.bar_recurrence(p) == pytest.approx(6 / 7) and mu.topline_stepwise(p) > 0.8  # all but the 2nd bar
    assert mu.bar_recurrence(shuffled) < 0.5 and mu.topline_stepwise(shuffled) < 0.8


def test_piece_from_midi_keeps_its_bar_lines():
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(3, 4, 0.0))
    inst = pretty_midi.Instrument(0)
    for k in range(8):  # eight 3/4 bars of one repeated figure
        for j, pitch in enumerate((60, 64, 67)):
            t = k * 1.5 + j * 0.5
            inst.notes.append(pretty_midi.Note(90, pitch, t, t + 0.5))
    pm.instruments.append(inst)
    whole = piece_from_midi(pm)
    assert whole.downbeats[:3] == (0, 3 * pm.resolution, 6 * pm.resolution) and whole.first_bar == 0
    assert mu.bar_recurrence(whole) == 1.0
    clip = piece_from_midi(pm, 3.0, 9.0)  # from the third bar
    assert clip.first_bar == 2 and clip.downbeats[0] == 0 and clip.ticks == 12 * pm.resolution
    assert mu.bar_recurrence(clip) == 1.0


def test_a_piece_whose_notes_have_no_length_has_no_cadence_to_measure():
    assert math.isnan(mu.cadence_rate(piece([(16 * k + 15, 16 * k + 15, 60) for k in range(8)])))
