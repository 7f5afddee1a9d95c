import itertools
import random

import numpy as np
import pytest

from moodtune.data.mood_changes import MAX_BARS, MIN_BARS, Part, Rendering, bar_count, draw_parts, join, joined_pieces
from moodtune.midi.tokens import BeatTokenizer, Meter, NoteEvent


def _rendering(bpm: float, pitch: int, mood: tuple[float, float], bars: int = 20) -> Rendering:
    """A quarter note a beat for ``bars`` 4/4 bars at ``bpm``, all of one pitch, so each note tells its source."""
    beat = 60.0 / bpm
    notes = [NoteEvent(b * beat, beat, pitch, 80) for b in range(4 * bars)]
    return Rendering(notes, Meter(bpm, 4), [mood[0], mood[1], 1.0])


SAD, HAPPY = _rendering(64.0, 60, (-0.7, -0.6)), _rendering(144.0, 72, (0.7, 0.6))


def test_parts_cover_every_bar_and_change_rendering_each_time():
    renderings = [SAD, HAPPY, _rendering(104.0, 66, (0.5, -0.5), bars=30)]
    for seed in range(20):
        parts = draw_parts(renderings, random.Random(seed))
        assert len(parts) >= 2
        assert parts[0].start == 0 and parts[-1].stop == bar_count(SAD) == 20  # the bars every rendering has
        assert all(a.stop == b.start and a.source != b.source for a, b in itertools.pairwise(parts))
        assert all(MIN_BARS <= p.stop - p.start <= MAX_BARS + MIN_BARS for p in parts)
    assert draw_parts([SAD, _rendering(64.0, 60, (0, 0), bars=2 * MIN_BARS - 1)], random.Random(0)) == []
    assert draw_parts([SAD], random.Random(0)) == []


def test_a_joined_piece_plays_each_part_from_its_rendering_in_its_tempo():
    parts = [Part(0, 0, 8), Part(1, 8, 20)]
    notes, meter = join([SAD, HAPPY], parts)
    switch = 32 * 60.0 / 64.0  # eight sad bars
    assert meter == Meter(64.0, 4, ((switch, 144.0),))
    assert len(notes) == 80 and [n.pitch for n in notes] == [60] * 32 + [72] * 48
    assert notes[32].start == pytest.approx(switch)
    assert notes[33].start - notes[32].start == pytest.approx(60.0 / 144.0)  # the happy part's beat


def test_joined_tokens_change_tempo_and_mood_at_the_bar_line():
    tok = BeatTokenizer()
    rng = random.Random(3)
    pieces = joined_pieces([SAD, HAPPY], tok, 2, rng)
    assert len(pieces) == 2
    for tokens, moods in pieces:
        assert moods.shape == (len(tokens), 3)
        bars = [i for i, t in enumerate(tokens) if t == "BAR"]
        for i in bars:
            sad = tokens[i + 1] == "TEMPO_64"
            assert sad or tokens[i + 1] == "TEMPO_144"
            assert np.allclose(moods[i], SAD.mood if sad else HAPPY.mood)  # the mood is known from the bar line on
            pitch = next(t for t in tokens[i:] if t.startswith("PITCH_"))
            assert pitch == ("PITCH_60" if sad else "PITCH_72")
        assert len({tokens[i + 1] for i in bars}) == 2


def test_renderings_in_different_meters_or_without_a_mood_are_not_joined():
    eight = [Rendering(r.notes, Meter(r.meter.bpm, 8), r.mood) for r in (SAD, HAPPY)]
    assert joined_pieces(eight, BeatTokenizer(), 1, random.Random(0)) == []  # bars the tokens cannot write
    three = Rendering(SAD.notes, Meter(64.0, 3), SAD.mood)
    assert joined_pieces([three, HAPPY], BeatTokenizer(), 1, random.Random(0)) == []
    unknown = Rendering(SAD.notes, SAD.meter, [0.0, 0.0, 0.0])
    assert joined_pieces([unknown, HAPPY], BeatTokenizer(), 1, random.Random(0)) == []
    with pytest.raises(ValueError, match="meters"):
        join([three, HAPPY], [Part(0, 0, 8), Part(1, 8, 20)])
