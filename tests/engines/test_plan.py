"""The plan of chords and phrases, and what it lets the note model write."""

import pytest

from moodtune.engines.plan import CHORDS, PARALLEL, PHRASE_BARS, Plan, PlanFollower
from moodtune.midi.tokens import BeatTokenizer


def test_phrases_restate_as_often_as_asked_and_take_the_mood_s_mode():
    always = Plan(seed=0, repeat=1.0)
    first = always.phrase(0, valence=0.5)
    assert first.mode == "major" and first.restates is None and first.chords[-1] in ("I", "V")
    for i in range(1, 4):
        assert always.phrase(i, valence=0.5).restates == 0
    # a phrase restates one of the last three only: the fifth has no original among them, so it is new
    assert always.phrase(4, valence=0.5).restates is None and always.phrase(5, valence=0.5).restates == 4
    # a restated phrase copies its original's bars, all but the last (written afresh over the same chord)
    source = always.phrases[1].restates * PHRASE_BARS
    assert [always.source_bar(PHRASE_BARS + k) for k in range(PHRASE_BARS)] == [source, source + 1, source + 2, None]
    never = Plan(seed=0, repeat=0.0)
    assert all(never.phrase(i, valence=-0.5).restates is None for i in range(5))
    assert {p.mode for p in never.phrases} == {"minor"} and all(never.source_bar(b) is None for b in range(20))
    # a phrase in the other mode is never a restatement of one in this mode
    switch = Plan(seed=0, repeat=1.0)
    switch.phrase(0, valence=0.5)
    assert switch.phrase(1, valence=-0.5).restates is None
    assert [p.chords for p in Plan(seed=3).phrases] == [] and Plan(seed=3).phrase(2, 0.1) == Plan(seed=3).phrase(2, 0.1)


def _follow(tokens, plan=None, valence=0.5):
    follower = PlanFollower(BeatTokenizer(), plan or Plan(seed=1, repeat=0.0))
    for t in tokens:
        follower.see(t, valence)
    return follower


def _banned(follower, prefix):
    tok = follower.tok
    return {
        int(tok.vocabulary[i].split("_")[1]) for i in follower.banned().tolist() if tok.vocabulary[i].startswith(prefix)
    }


def test_on_the_beat_only_chord_tones_and_between_beats_short_passing_notes():
    assert _follow(["METER_4"]).banned() is None  # nothing is planned before the first bar line
    f = _follow(["METER_4", "BAR", "TEMPO_104", "POS_0"])
    chord = set(CHORDS[f.chord_name(0)])
    allowed = set(range(21, 109)) - _banned(f, "PITCH_")
    assert allowed and {p % 12 for p in allowed} == chord
    f = _follow(["METER_4", "BAR", "TEMPO_104", "POS_2"])  # between beats: any pitch class
    assert {p % 12 for p in set(range(21, 109)) - _banned(f, "PITCH_")} == set(range(12))
    outside = next(p for p in range(60, 72) if p % 12 not in chord)
    f = _follow(["METER_4", "BAR", "TEMPO_104", "POS_2", f"PITCH_{outside}"])
    assert min(_banned(f, "DUR_")) == 3  # ends by the next beat: at most 2 sixteenths from position 2
    following = set(CHORDS[f.chord_name(1)])
    for pitch in range(60, 72):
        if pitch % 12 in chord:
            f = _follow(["METER_4", "BAR", "TEMPO_104", "POS_2", f"PITCH_{pitch}"])
            if pitch % 12 in following:  # a tone of the next chord too may be held over the bar line, to its end
                assert min(_banned(f, "DUR_")) == 31  # 14 sixteenths to this bar's end, 16 through the next
            else:  # else it lasts to the bar line (14 sixteenths from position 2), no further
                assert min(_banned(f, "DUR_")) == 15


def test_the_cadence_bar_has_chord_tones_only():
    tokens = ["METER_4"] + ["BAR", "TEMPO_104", "POS_0", "PITCH_60", "DUR_16"] * PHRASE_BARS
    f = _follow([*tokens[:-2], "POS_2"])
    assert f.bar == PHRASE_BARS - 1
    chord = set(CHORDS[f.chord_name(f.bar)])
    assert {p % 12 for p in set(range(21, 109)) - _banned(f, "PITCH_")} <= chord


def test_the_melody_moves_by_step_unless_the_onset_leaps():
    plan = Plan(seed=1, repeat=0.0)
    f = _follow(["METER_4", "BAR", "TEMPO_104", "POS_0", "PITCH_72", "DUR_2"], plan)
    f.see("POS_4", 0.5)  # the melody note (72) has ended: this onset's top must come within a step or two of it
    f.leap = False
    f.onset_notes = 2
    allowed = set(range(21, 109)) - _banned(f, "PITCH_")
    assert allowed and min(allowed) >= 72 - 4 and max(allowed) <= 72 + 4
    assert any(f.tok.vocabulary[i] == "BAR" for i in f.banned().tolist())  # it may not move on without one
    f.leap = True
    leaping = set(range(21, 109)) - _banned(f, "PITCH_")
    assert max(leaping) == 84 and min(leaping) >= 72 - 24  # an octave up at most; the texture within two below


def test_a_loop_opens_on_the_tonic_and_its_last_bar_leads_back():
    from moodtune.engines.plan import LOOP_CHORD, TONICS

    for seed in range(12):
        plan = Plan(seed=seed, repeat=0.5, loop=True)
        f = _follow(["METER_4", "BAR", "TEMPO_104"], plan)
        assert plan.phrases[0].chords[0] in TONICS
        plan.last_bar = 5
        assert {f.tok.vocabulary[i] for i in f.banned().tolist()} >= {"POS_1", "POS_4", "BAR"}  # the downbeat first
        for _ in range(5):
            f.see("BAR", 0.5)
        assert f.chord_name(5) == LOOP_CHORD and plan.source_bar(5) is None
        assert {p % 12 for p in set(range(21, 109)) - _banned(f, "PITCH_")} <= set(CHORDS[LOOP_CHORD])


@pytest.mark.parametrize("valence", [0.5, -0.5])
def test_a_bar_in_the_other_mode_takes_the_parallel_chord(valence):
    plan = Plan(seed=2, repeat=0.0)
    f = _follow(["METER_4", "BAR", "TEMPO_104"], plan, valence)
    f.see("BAR", valence)
    assert f.chord_name(1) == plan.phrases[0].chords[1]  # the mood holds: the planned chord
    f.see("BAR", -valence)
    assert f.chord_name(2) == PARALLEL[plan.phrases[0].chords[2]]  # it crossed over: the parallel mode's


def test_the_melody_never_leaves_no_pitch_at_the_edges_of_the_range():
    tok = BeatTokenizer()
    for chord in CHORDS.values():
        for top in (tok.MIN_PITCH, tok.MIN_PITCH + 1, tok.MAX_PITCH - 1, tok.MAX_PITCH):
            f = _follow(["METER_4", "BAR", "TEMPO_104"])
            f.before, f.held, f.leap, f.onset_notes = top, False, False, 2
            low, high, stay = f._melody_window(chord)
            allowed = [p for p in range(max(low, tok.MIN_PITCH), min(high, tok.MAX_PITCH) + 1) if p % 12 in chord]
            assert allowed or not stay, (chord, top)


def test_the_plan_reads_the_meter_the_piece_opens_with():
    f = _follow(["METER_3", "BAR", "TEMPO_104", "POS_8"])
    chord, following = set(CHORDS[f.chord_name(0)]), set(CHORDS[f.chord_name(1)])
    pitch = next((p for p in range(60, 72) if p % 12 in chord and p % 12 not in following), None)
    if pitch is not None:
        f.see(f"PITCH_{pitch}", 0.5)
        assert min(_banned(f, "DUR_")) == 5  # a 3/4 bar ends 4 sixteenths after position 8
