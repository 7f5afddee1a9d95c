import pytest

from moodtune.errors import MidiReadError
from moodtune.midi.tokens import (
    BeatTokenizer,
    Meter,
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


def test_a_known_tonic_moves_a_piece_where_the_estimate_would_not():
    from moodtune.midi.analysis import to_c_tonic
    from moodtune.midi.tokens import NoteEvent

    # A natural minor, ending on A: estimated as A minor and moved up 3 semitones to C minor
    steps = [0, 3, 7, 12, 7, 3, 0, 2, 3, 5, 7, 0]
    piece = [NoteEvent(i * 0.5, 0.5, 57 + s, 90) for i, s in enumerate(steps)]
    assert [n.pitch - p.pitch for n, p in zip(to_c_tonic(piece), piece, strict=True)] == [3] * len(piece)
    # told its tonic is C (as the relative major of a score in C would be), it stays; told F#, it moves by -6
    assert [n.pitch for n in to_c_tonic(piece, tonic=0)] == [n.pitch for n in piece]
    assert {n.pitch - p.pitch for n, p in zip(to_c_tonic(piece, tonic=6), piece, strict=True)} == {-6}
    assert {n.pitch - p.pitch for n, p in zip(to_c_tonic(piece, tonic=7), piece, strict=True)} == {5}


def _on_grid(bpm: float = 104.0) -> list[NoteEvent]:
    """Notes on the sixteenth-note grid of ``bpm`` over three 3/4 bars: a chord, syncopation, a held note, a rest."""
    unit = 60.0 / bpm / 4
    spec = [(0, 4, 60), (0, 4, 64), (2, 1, 67), (5, 7, 72), (12, 12, 48), (30, 2, 71), (33, 3, 74)]
    return [NoteEvent(s * unit, d * unit, p, 96) for s, d, p in spec]


def _same_notes(a: list[NoteEvent], b: list[NoteEvent]) -> bool:
    def key(notes):
        ordered = sorted(notes, key=lambda n: (n.start, n.pitch))
        return [(n.pitch, round(n.start, 9), round(n.duration, 9)) for n in ordered]

    return key(a) == key(b)


@pytest.mark.parametrize("bar_tempo", [True, False])
def test_beats_round_trip_keeps_pitch_onset_and_duration_on_the_grid(bar_tempo):
    tok = BeatTokenizer(bar_tempo=bar_tempo)
    notes = _on_grid()
    tokens = tok.encode(notes, Meter(104.0, 3))
    assert _same_notes(tok.decode(tokens), notes)
    if bar_tempo:  # every bar opens with its tempo
        assert tokens[:3] == ["METER_3", "BAR", "TEMPO_104"]
        assert all(tokens[i + 1] == "TEMPO_104" for i, t in enumerate(tokens) if t == "BAR")
    else:  # the tempo is the piece's header
        assert tokens[:2] == ["TEMPO_104", "METER_3"]
        assert sum(t.startswith("TEMPO_") for t in tokens) == 1
    assert tokens.count("BAR") == 3  # a bar of 3 beats is 12 sixteenths: onsets 0..33 span bars 0, 1 and 2
    assert "POS_5" in tokens and "POS_0" in tokens  # syncopation and downbeats are explicit positions
    assert tok.meter_of(tokens) == Meter(104.0, 3)
    again = tokenizer_from_dict(tok.to_dict())
    assert again.vocabulary == tok.vocabulary and again.bar_tempo == bar_tempo


def test_beats_from_before_bar_tempi_load_with_the_header_tempo():
    old = {"kind": "beats", "vocabulary": BeatTokenizer().vocabulary}  # what checkpoints stored before
    tok = tokenizer_from_dict(old)
    assert not tok.bar_tempo
    tokens = ["TEMPO_104", "METER_3", "BAR", "POS_0", "PITCH_60", "DUR_4", "BAR", "TEMPO_208", "POS_0", "PITCH_62"]
    tokens.append("DUR_4")
    assert [round(n.start, 6) for n in tok.decode(tokens)] == [0.0, round(12 * 60 / 104 / 4, 6)]  # TEMPO_208 ignored
    assert tok.meter_of(tokens) == Meter(104.0, 3)
    assert "TEMPO_104" in tok.closed_by("BAR") and tok.banned_after("BAR") == []
    header = ["TEMPO_80", "METER_4", "POS_4", "TEMPO_120", "BAR", "POS_0", "PITCH_60", "DUR_4"]
    (note,) = tok.decode(header)  # the header's last tempo holds from the start, as it always did
    assert (note.start, note.duration) == (0.0, pytest.approx(0.5)) and tok.meter_of(header) == Meter(120.0, 4)


def _two_tempi() -> tuple[list[NoteEvent], Meter]:
    """Quarter notes over four 4/4 bars: two bars at 72 BPM, then two at 144 BPM."""
    meter = Meter(72.0, 4, ((8 * 60 / 72, 144.0),))
    return [
        NoteEvent(meter.seconds_at(b), meter.seconds_at(b + 1) - meter.seconds_at(b), 60 + b, 80) for b in range(16)
    ], meter


def test_beats_tempo_changes_at_bar_lines_round_trip():
    tok = BeatTokenizer()
    notes, meter = _two_tempi()
    tokens = tok.encode(notes, meter)
    tempi = [tokens[i + 1] for i, t in enumerate(tokens) if t == "BAR"]
    assert tempi == ["TEMPO_72", "TEMPO_72", "TEMPO_144", "TEMPO_144"]
    assert _same_notes(tok.decode(tokens), notes)  # quarter notes in seconds, the faster bars' shorter
    assert tok.meter_of(tokens) == meter
    clock = tok.clock()
    times = [clock(t) for t in tokens]
    assert times[len(tokens) - 1 - tokens[::-1].index("PITCH_75")] == pytest.approx(notes[-1].start)


def test_bar_tempo_grammar_puts_a_tempo_after_each_bar_line_and_nowhere_else():
    tok = BeatTokenizer()
    after_bar = set(tok.banned_after("BAR"))
    assert not any(t.startswith("TEMPO_") for t in after_bar) and "POS_0" in after_bar and "BAR" in after_bar
    for token in ("POS_3", "PITCH_60", "TEMPO_72"):
        assert {t for t in tok.vocabulary if t.startswith("TEMPO_")} == set(tok.banned_after(token))
    # a piece opens with its meter or a bar line, and the meter with a bar line: no note before the first bar
    assert set(tok.vocabulary) - set(tok.banned_after("<bos>")) == {"BAR", *(f"METER_{n}" for n in range(1, 8))}
    assert set(tok.vocabulary) - set(tok.banned_after("METER_4")) == {"BAR"}
    assert tok.closed_by("BAR") == [f"METER_{n}" for n in range(1, 8)]
    # a position past the bar's end (a 3/4 bar has 12) is read as its last sixteenth, so a tempo change at the
    # next bar line cannot fall inside a note's bar
    tokens = ["METER_3", "BAR", "TEMPO_72", "POS_26", "PITCH_60", "DUR_1", "BAR", "TEMPO_144", "POS_0", "PITCH_62"]
    first, second = tok.decode([*tokens, "DUR_1"])
    unit = 60.0 / 72 / 4
    assert first.start == pytest.approx(11 * unit) and second.start == pytest.approx(12 * unit)
    # ... and sampling never writes one: the meter closes the positions past its bar
    assert tok.closed_by("METER_3") == [f"POS_{k}" for k in range(12, 28)]
    assert tok.closed_by("METER_7") == [] and tok.closed_by("POS_3") == []
    assert BeatTokenizer(bar_tempo=False).closed_by("METER_3") == []  # older models sample as they did


def test_a_tempo_written_mid_bar_holds_from_its_bar_line():
    """The grammar writes a tempo only after a bar line; one that stands mid-bar (a hand-made or older sequence)
    still changes the tempo from the bar line, so no onset comes before the bar line it follows or below 0."""
    tok = BeatTokenizer()
    tokens = ["METER_4", "BAR", "TEMPO_120", "POS_8", "TEMPO_60", "POS_2", "PITCH_60", "DUR_4"]
    (note,) = tok.decode(tokens)
    assert note.start == pytest.approx(2 * 0.25) and note.duration == pytest.approx(1.0)  # 60 BPM from the bar line
    assert tok.meter_of(tokens).bpm == 60.0  # the two tempi of one bar line: the last holds
    tokens = ["METER_4", "BAR", "TEMPO_120", "BAR", "TEMPO_120", "POS_12", "TEMPO_60", "POS_0", "PITCH_60", "DUR_4"]
    (note,) = tok.decode(tokens)
    assert note.start == pytest.approx(2.0)  # the second bar's line, at 120 BPM from the first
    meter = tok.meter_of(tokens)
    assert meter.bpm == 120.0 and meter.changes == ((2.0, 60.0),)
    back = [*tokens[:-3], "TEMPO_120", "POS_0", "PITCH_60", "DUR_4"]  # and back to 120 at the same bar line
    assert tok.meter_of(back).changes == ()  # no change recorded that changes nothing


def test_tempo_changes_reach_the_midi_and_back(tmp_path):
    import pretty_midi

    from moodtune.midi.tokens import BeatTokenizer, midi_meter, midi_notes, notes_to_midi

    notes, meter = _two_tempi()
    pm = notes_to_midi(notes, tempo=meter.bpm, beats_per_bar=4, tempo_changes=meter.changes)
    pm.write(str(tmp_path / "a.mid"))
    read = pretty_midi.PrettyMIDI(str(tmp_path / "a.mid"))
    back = midi_meter(read)
    assert back.bpm == pytest.approx(72.0, abs=0.01) and len(back.changes) == 1
    assert back.changes[0][0] == pytest.approx(meter.changes[0][0], abs=1e-3)
    assert back.changes[0][1] == pytest.approx(144.0, abs=0.01)  # MIDI stores whole microseconds per beat
    ticks = [read.time_to_tick(n.start) for n in read.instruments[0].notes]
    assert ticks == [b * read.resolution for b in range(16)]  # every note on its beat: the score shows quarters
    tok = BeatTokenizer()
    assert tok.encode(midi_notes(read), back) == tok.encode(notes, meter)


def test_beats_clock_follows_bars_and_positions():
    tok = BeatTokenizer()
    tokens = tok.encode(_on_grid(), Meter(104.0, 3))
    clock = tok.clock()
    times = [clock(t) for t in tokens]
    unit = 60.0 / 104.0 / 4
    assert times == sorted(times)  # time never runs backwards
    assert tok.duration(tokens) == pytest.approx(33 * unit)  # the last onset
    assert times[tokens.index("POS_5")] == pytest.approx(5 * unit)


def test_beats_tempo_and_meter_come_from_the_midi(tmp_path):
    import pretty_midi

    from moodtune.midi.tokens import BeatTokenizer, midi_meter, midi_notes, notes_to_midi

    pm = notes_to_midi(_on_grid(), tempo=104.0, beats_per_bar=3)
    pm.write(str(tmp_path / "a.mid"))
    read = pretty_midi.PrettyMIDI(str(tmp_path / "a.mid"))
    meter = midi_meter(read)
    assert (round(meter.bpm), meter.beats_per_bar) == (104, 3)
    back = BeatTokenizer().decode(BeatTokenizer().encode(midi_notes(read), meter))
    assert [n.pitch for n in back] == [n.pitch for n in sorted(_on_grid(), key=lambda n: (n.start, n.pitch))]
