import math

import numpy as np
import pandas as pd
import pytest

from moodtune.data import prepare, read_manifest, read_summary
from moodtune.data.cache import FeatureCache, LogMelFeature
from moodtune.errors import DatasetError
from tests.data.layouts import GTZAN_GENRES, make_gtzan


@pytest.fixture(scope="module")
def gtzan_run(tmp_path_factory):
    root = make_gtzan(tmp_path_factory.mktemp("gtzan"))
    out = tmp_path_factory.mktemp("gtzan_out")
    result = prepare("gtzan", root, out, clip_seconds=4.0, workers=2, progress=False, warn=lambda _: None)
    return root, out, result


def test_genres_styles_unlabeled(gtzan_run):
    df = read_manifest(gtzan_run[1])
    assert sorted(df["style"].unique()) == list(GTZAN_GENRES)
    assert df.valence.isna().all() and df.arousal.isna().all()
    assert (df.va_curve == "").all()
    counts = df.groupby("track_id").size().to_dict()
    assert counts["gtzan/rock.00001"] == 2  # 11.5 s -> two 4 s clips, the short tail dropped
    assert counts["gtzan/blues.00000"] == 3
    assert (df.sr == 22050).all()


def test_corrupt_file_skipped_and_counted(gtzan_run):
    summary = read_summary(gtzan_run[1])
    assert summary["skipped_count"] == 1
    assert summary["skipped"][0]["path"].endswith("jazz.00054.wav")
    assert summary["quadrants"] == {"unlabeled": summary["clips"]}


def test_log_mel_cache_matches_clip_audio(gtzan_run):
    from moodtune.audio.features import LogMel
    from moodtune.audio.io import load_audio

    df = read_manifest(gtzan_run[1])
    row = df.iloc[1]
    feature = LogMelFeature()
    cached = FeatureCache(gtzan_run[1]).load_row(feature, row)
    audio, _ = load_audio(row.path, sr=22050, start_s=row.start_s, end_s=row.end_s)
    assert cached.shape == (128, 1 + 4 * 22050 // 512) and cached.dtype == np.float16
    np.testing.assert_allclose(cached.astype(np.float32), LogMel()(audio).numpy(), atol=1e-3)


def test_second_run_reuses_everything(gtzan_run):
    root, out, first = gtzan_run
    again = prepare("gtzan", root, out, clip_seconds=4.0, workers=2, progress=False, warn=lambda _: None)
    assert again.jobs_run == 0 and again.jobs_reused == first.jobs_run
    pd.testing.assert_frame_equal(read_manifest(out), pd.read_parquet(first.manifest_path))


def test_limit_round_robins_genres(tmp_path, gtzan_run):
    result = prepare("gtzan", gtzan_run[0], tmp_path, clip_seconds=4.0, limit=3, workers=1, progress=False)
    assert sorted(read_manifest(tmp_path)["style"].unique()) == list(GTZAN_GENRES)
    assert result.summary["tracks"] == 3


def test_missing_layout_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match="genres_original"):
        prepare("gtzan", tmp_path, tmp_path / "o", progress=False)


def test_changing_clip_length_invalidates_records(tmp_path, gtzan_run):
    result = prepare("gtzan", gtzan_run[0], tmp_path, clip_seconds=5.0, limit=1, workers=1, progress=False)
    assert result.jobs_run == 1 and not math.isnan(result.summary["hours"])
