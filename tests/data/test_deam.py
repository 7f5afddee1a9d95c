import json
import math
import subprocess
import sys

import numpy as np
import pytest

from moodtune.data import prepare, read_manifest, read_summary
from moodtune.errors import DatasetError
from tests.data.layouts import DEAM_STATIC_1, DEAM_STATIC_2, deam_dynamic, make_deam


@pytest.fixture(scope="module")
def deam_run(tmp_path_factory):
    root = make_deam(tmp_path_factory.mktemp("deam"))
    out = tmp_path_factory.mktemp("deam_out")
    warnings = []
    result = prepare("deam", root, out, clip_seconds=5.0, workers=1, progress=False, warn=warnings.append)
    return root, out, result, warnings


def test_rows_labels_scaled_from_1_9(deam_run):
    _, out, _, _ = deam_run
    df = read_manifest(out)
    assert sorted(df.track_id.unique()) == ["deam/2", "deam/2001", "deam/3"]
    assert df.groupby("track_id").size().to_dict() == {"deam/2": 4, "deam/2001": 4, "deam/3": 4}
    labels = {**DEAM_STATIC_1, **DEAM_STATIC_2}
    for row in df.itertuples():
        v, a = labels[int(row.track_id.split("/")[1])]
        assert row.valence == pytest.approx((v - 5) / 4) and row.arousal == pytest.approx((a - 5) / 4)
        assert row.sr == 44100 and row.path.endswith(".mp3") and row.source == "deam"
        assert row.end_s - row.start_s == pytest.approx(5.0)


def test_second_file_columns_selected_by_name(deam_run):
    df = read_manifest(deam_run[1])
    row = df[df.track_id == "deam/2001"].iloc[0]
    assert row.valence == pytest.approx(0.5) and row.arousal == pytest.approx(-0.3)


def test_dynamic_curve_averaged_per_second_and_sliced_per_clip(deam_run):
    df = read_manifest(deam_run[1])
    song2 = df[df.track_id == "deam/2"].sort_values("start_s")
    assert song2.iloc[0].va_curve == ""  # 0-5 s: no dynamic annotation before 15 s
    curve = json.loads(song2.iloc[3].va_curve)  # 15-20 s
    v, a = deam_dynamic(2, "valence"), deam_dynamic(2, "arousal")
    expected = [[(v[2 * i] + v[2 * i + 1]) / 2, (a[2 * i] + a[2 * i + 1]) / 2] for i in range(5)]
    np.testing.assert_allclose(np.array(curve, dtype=float), expected, atol=1e-4)
    # song 3 ends in empty cells: seconds 18 and 19 are unknown
    song3 = json.loads(df[df.track_id == "deam/3"].sort_values("start_s").iloc[3].va_curve)
    assert song3[3] == [None, None] and song3[4] == [None, None] and song3[2][0] is not None


def test_skips_are_named_and_counted(deam_run):
    _, out, _, warnings = deam_run
    summary = read_summary(out)
    reasons = {s["path"].rsplit("/", 1)[1]: s["reason"] for s in summary["skipped"]}
    assert summary["skipped_count"] == 2 == len(warnings)
    assert "no annotation row" in reasons["4.mp3"]
    assert "5.mp3" in reasons["5.mp3"] and "unreadable" in reasons["5.mp3"]
    assert summary["clips"] == 12 and summary["tracks"] == 3


def test_split_by_track(deam_run):
    df = read_manifest(deam_run[1])
    assert (df.groupby("track_id").split.nunique() == 1).all()
    assert set(df.split) == {"train", "val", "test"}


def test_quadrant_counts(deam_run):
    summary = read_summary(deam_run[1])
    assert summary["quadrants"] == {"calm": 4, "happy": 4, "sad": 4}
    assert not any(math.isnan(x) for x in read_manifest(deam_run[1]).valence)


def test_missing_static_file_is_one_clear_error(tmp_path):
    root = make_deam(tmp_path / "d", drop="static1")
    with pytest.raises(DatasetError, match=r"static_annotations_averaged_songs_1_2000\.csv not found.*song_id"):
        prepare("deam", root, tmp_path / "o", progress=False)
    cli = subprocess.run(
        [sys.executable, "-m", "moodtune", "prepare", "deam", str(root), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
    )
    assert cli.returncode == 2
    assert "Traceback" not in cli.stderr and len(cli.stderr.strip().splitlines()) == 1
    assert "static_annotations_averaged_songs_1_2000.csv" in cli.stderr


def test_wrong_columns_named(tmp_path):
    root = make_deam(tmp_path / "d", bad_columns=True)
    with pytest.raises(DatasetError, match=r"lacks column\(s\) valence_mean; expected columns song_id, valence_mean"):
        prepare("deam", root, tmp_path / "o", progress=False)


def test_half_of_the_dynamic_pair_is_an_error(tmp_path):
    root = make_deam(tmp_path / "d", drop="arousal")
    with pytest.raises(DatasetError, match=r"arousal\.csv is missing"):
        prepare("deam", root, tmp_path / "o", progress=False)
