import json

import numpy as np

from moodtune.evaluation.mood_training import window_labels


def test_windows_take_the_mean_of_the_dynamic_annotations_they_cover():
    curve = [[0.5, 0.1]] * 4 + [[-0.5, 0.3]] * 4
    row = {"valence": 9.0, "arousal": 9.0, "va_curve": json.dumps(curve)}
    labels = window_labels(row, np.array([0.0, 2.0, 4.0]), 4.0)
    assert np.allclose(labels, [[0.5, 0.1], [0.0, 0.2], [-0.5, 0.3]])


def test_static_label_without_a_curve_or_where_nothing_is_annotated():
    row = {"valence": 0.2, "arousal": -0.4, "va_curve": ""}
    assert np.allclose(window_labels(row, np.array([0.0, 2.0]), 4.0), [[0.2, -0.4]] * 2)
    gaps = {"valence": 0.2, "arousal": -0.4, "va_curve": json.dumps([[None, None]] * 4 + [[0.6, 0.6]] * 4)}
    assert np.allclose(window_labels(gaps, np.array([0.0, 4.0]), 4.0), [[0.2, -0.4], [0.6, 0.6]])
