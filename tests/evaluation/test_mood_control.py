import numpy as np
import pytest

from moodtune.evaluation.diversity import mean_pairwise_distance, within_group_distance
from moodtune.evaluation.mood_control import control_scores, pearson, quadrant_accuracy, r2_score, regression_scores


def test_regression_scores_on_known_values():
    true = np.array([[0.5, 0.5], [-0.5, 0.5], [-0.5, -0.5], [0.5, -0.5]])
    perfect = regression_scores(true, true)
    assert perfect["valence_r2"] == 1.0 and perfect["arousal_rmse"] == 0.0 and perfect["quadrant_accuracy"] == 1.0
    mean_only = np.zeros_like(true)
    assert r2_score(mean_only[:, 0], true[:, 0]) == pytest.approx(0.0)
    flipped = true * np.array([-1, 1])
    assert quadrant_accuracy(flipped, true) == 0.0
    assert pearson(flipped[:, 0], true[:, 0]) == pytest.approx(-1.0)


def test_control_scores():
    asked = np.array([[0.5, 0.5], [-0.5, -0.5]])
    measured = np.array([[0.3, 0.6], [-0.1, -0.2]])
    s = control_scores(measured, asked)
    assert s["valence_mae"] == pytest.approx(0.3)
    assert s["arousal_mae"] == pytest.approx(0.2)
    assert s["valence_r"] == pytest.approx(1.0)
    assert s["quadrant_accuracy"] == 1.0
    assert np.isnan(control_scores(measured, np.array([[0.5, 0.5], [0.5, 0.5]]))["valence_r"])


def test_diversity():
    assert mean_pairwise_distance(np.zeros((5, 3))) == 0.0
    square = np.array([[0.0, 0.0], [3.0, 4.0]])
    assert mean_pairwise_distance(square) == pytest.approx(5.0)
    x = np.array([[0.0, 0.0], [3.0, 4.0], [10.0, 10.0], [10.0, 10.0]])
    groups = ["a", "a", "b", "b"]
    assert within_group_distance(x, groups, np.ones(2)) == pytest.approx(2.5)  # mean of 5 and 0
    assert within_group_distance(x, groups, np.full(2, 5.0)) == pytest.approx(0.5)
