import math

import numpy as np
import pytest

from moodtune.errors import MoodtuneError
from moodtune.mood import MOOD_ANGLES, Mood, Trajectory, quadrant, quadrant_name


@pytest.mark.parametrize(
    ("name", "sv", "sa", "q"),
    [("happy", 1, 1, 1), ("angry", -1, 1, 2), ("sad", -1, -1, 3), ("calm", 1, -1, 4)],
)
def test_named_quadrant_moods(name, sv, sa, q):
    m = Mood.named(name)
    assert math.copysign(1, m.valence) == sv and math.copysign(1, m.arousal) == sa
    assert m.quadrant == q
    assert m.nearest_name() == name


def test_every_named_mood_is_inside_the_square_and_its_own_nearest():
    for name in MOOD_ANGLES:
        m = Mood.named(name)
        assert -1 <= m.valence <= 1 and -1 <= m.arousal <= 1
        assert m.nearest_name() == name


def test_parse_point_and_name():
    assert Mood.parse("0.5,-0.25") == Mood(0.5, -0.25)
    assert Mood.parse(" Calm ") == Mood.named("calm")


@pytest.mark.parametrize("bad", ["ecstatic", "1.5,0", "0,nan", "a,b", "1,2,3"])
def test_parse_rejects_bad_input(bad):
    with pytest.raises(MoodtuneError):
        Mood.parse(bad)


def test_quadrant_of_unknown_is_zero():
    assert quadrant(float("nan"), 0.3) == 0
    assert quadrant_name(float("nan"), float("nan")) == "unlabeled"
    assert quadrant_name(0.0, 0.0) == "happy"


def test_trajectory_interpolates_linearly_and_holds_ends():
    tr = Trajectory.parse("sad:0,happy:30")
    sad, happy = Mood.named("sad"), Mood.named("happy")
    va = tr.at([0, 15, 30, 40])
    np.testing.assert_allclose(va[0], [sad.valence, sad.arousal])
    np.testing.assert_allclose(va[1], [(sad.valence + happy.valence) / 2, (sad.arousal + happy.arousal) / 2])
    np.testing.assert_allclose(va[2], va[3])
    assert tr.duration == 30


def test_trajectory_points_and_errors():
    tr = Trajectory.parse("0.5/0.5:0,-0.5/-0.5:10")
    np.testing.assert_allclose(tr.at(5.0), [0.0, 0.0])
    with pytest.raises(MoodtuneError):
        Trajectory.parse("happy:10,sad:5")
    with pytest.raises(MoodtuneError):
        Trajectory.parse("happy")
    assert Trajectory.from_points([(0, 0.1, 0.2)]).at(3.0).tolist() == pytest.approx([0.1, 0.2])
