import math

import numpy as np
import pretty_midi
import pytest

from moodtune.evaluation import symbolic_metrics as sm
from moodtune.evaluation.symbolic_metrics import GridNote, GridPiece


def piece(notes, resolution=4, seconds=4.0):
    return GridPiece(tuple(GridNote(*n) for n in notes), resolution, seconds)


C_MAJOR = [60, 62, 64, 65, 67, 69, 71, 72]


def test_c_major_scale_is_fully_consistent():
    p = piece([(i * 4, i * 4 + 4, pitch) for i, pitch in enumerate(C_MAJOR)])
    assert sm.scale_consistency(p) == 1.0
    assert sm.pitch_range(p) == 12
    assert sm.polyphony(p) == 1.0
    assert sm.empty_beat_rate(p) == 0.0  # note end ticks touch the next beat; no gap


def test_chromatic_notes_and_entropy():
    p = piece([(i, i + 1, 60 + i) for i in range(12)])
    assert sm.pitch_class_entropy(p) == pytest.approx(math.log2(12))
    assert sm.scale_consistency(p) == pytest.approx(7 / 12)
    single = piece([(0, 4, 60), (4, 8, 72)])
    assert sm.pitch_class_entropy(single) == 0.0


def test_polyphony_of_a_held_triad():
    p = piece([(0, 8, 60), (0, 8, 64), (0, 8, 67)])
    assert sm.polyphony(p) == 3.0


def test_groove_consistency_and_empty_beats():
    pattern = [0, 4, 8, 12]  # four quarter notes per 4/4 measure at resolution 4
    same = piece([(m * 16 + o, m * 16 + o + 1, 60) for m in range(3) for o in pattern])
    assert sm.groove_consistency(same) == 1.0
    shifted = piece([(0, 1, 60), (16 + 2, 16 + 3, 60)])
    assert sm.groove_consistency(shifted) == pytest.approx(1 - 2 / 16)
    gappy = piece([(0, 1, 60), (12, 13, 60)])  # beats 0 and 3 sound, 1 and 2 are empty
    assert sm.empty_beat_rate(gappy) == pytest.approx(2 / 4)
    assert math.isnan(sm.groove_consistency(piece([(0, 1, 60)])))


def test_empty_piece_gives_nan():
    empty = piece([])
    for name in sm.METRICS:
        if name != "note_density":
            assert math.isnan(sm.piece_metrics(empty)[name]), name
    assert sm.note_density(empty) == 0.0


def test_distribution_overlap():
    rng = np.random.default_rng(0)
    a = rng.normal(0, 1, 400)
    assert sm.distribution_overlap(a, a)["overlap"] == pytest.approx(1.0, abs=1e-3)
    assert sm.distribution_overlap(a, a)["kl"] == pytest.approx(0.0, abs=1e-6)
    assert sm.distribution_overlap(a, a + 100)["overlap"] < 0.01
    near = sm.distribution_overlap(a, rng.normal(0.2, 1, 400))["overlap"]
    far = sm.distribution_overlap(a, rng.normal(2.0, 1, 400))["overlap"]
    assert 1.0 > near > far > 0.0
    assert sm.distribution_overlap([1.0, 1.0], [1.0, 1.0])["overlap"] == pytest.approx(1.0, abs=1e-3)


def _random_midi(path, seed):
    rng = np.random.default_rng(seed)
    pm = pretty_midi.PrettyMIDI(initial_tempo=100)
    inst = pretty_midi.Instrument(0)
    t = 0.0
    for _ in range(60):
        chord = rng.choice(np.arange(48, 84), size=rng.integers(1, 4), replace=False)
        dur = float(rng.choice([0.15, 0.3, 0.6]))
        for p in chord:  # distinct pitches per onset and no same-pitch overlap across onsets
            inst.notes.append(pretty_midi.Note(int(rng.integers(40, 110)), int(p), t, t + dur * 0.9))
        t += dur
    pm.instruments.append(inst)
    pm.write(str(path))
    return path


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_metrics_agree_with_muspy(tmp_path, seed):
    muspy = pytest.importorskip("muspy")
    path = _random_midi(tmp_path / "x.mid", seed)
    music = muspy.read_midi(str(path))
    ours = sm.piece_metrics(sm.read_piece(path))
    reference = {
        "pitch_class_entropy": muspy.pitch_class_entropy(music),
        "scale_consistency": muspy.scale_consistency(music),
        "groove_consistency": muspy.groove_consistency(music, 4 * music.resolution),
        "empty_beat_rate": muspy.empty_beat_rate(music),
        "polyphony": muspy.polyphony(music),
        "pitch_range": muspy.pitch_range(music),
    }
    for name, value in reference.items():
        assert ours[name] == pytest.approx(value, abs=1e-9), name


def test_a_clip_from_the_middle_of_a_piece_reads_like_one_from_its_start(tmp_path):
    """A clip is counted from its own start: the beats before it are not empty beats of the clip, and a note
    that rings past its end is cut there."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)  # a beat every 0.5 s
    inst = pretty_midi.Instrument(0)
    for beat in range(32):  # a quarter note on every beat for 16 s
        inst.notes.append(pretty_midi.Note(80, 60 + beat % 5, beat * 0.5, beat * 0.5 + 0.5))
    inst.notes.append(pretty_midi.Note(80, 48, 11.5, 14.0))  # rings 2 s past the second clip's end
    pm.instruments.append(inst)
    path = tmp_path / "steady.mid"
    pm.write(str(path))
    head, middle = sm.read_piece(path, 0.0, 8.0), sm.read_piece(path, 4.0, 12.0)
    assert min(n.start for n in middle.notes) == 0
    assert sm.empty_beat_rate(middle) == sm.empty_beat_rate(head) == 0.0
    assert sm.groove_consistency(middle) == sm.groove_consistency(head)
    assert max(n.end for n in middle.notes) == 16 * pm.resolution  # 8 s = 16 beats, the long note cut there
