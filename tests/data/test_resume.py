import pandas as pd
import pytest

from moodtune.data import prepare, read_manifest
from moodtune.data.adapters.audio_files import GtzanAdapter
from moodtune.data.manifest import MANIFEST_FILE
from moodtune.data.prepare import JOBS_DIR
from tests.data.layouts import make_gtzan


def test_killed_run_leaves_no_manifest_and_resumes(tmp_path, monkeypatch):
    root = make_gtzan(tmp_path / "g", seconds=5.0)
    out = tmp_path / "out"
    calls = {"n": 0}
    original = GtzanAdapter.materialize

    def dying(self, job, ctx):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt  # the user pressed Ctrl-C during the 4th track
        return original(self, job, ctx)

    monkeypatch.setattr(GtzanAdapter, "materialize", dying)
    with pytest.raises(KeyboardInterrupt):
        prepare("gtzan", root, out, clip_seconds=2.0, workers=1, progress=False, warn=lambda _: None)
    assert not (out / MANIFEST_FILE).exists()
    assert len(list((out / JOBS_DIR).glob("*.json"))) == 3
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp") or ".tmp." in p.name]
    monkeypatch.setattr(GtzanAdapter, "materialize", original)
    resumed = prepare("gtzan", root, out, clip_seconds=2.0, workers=1, progress=False, warn=lambda _: None)
    assert resumed.jobs_reused == 3 and resumed.jobs_run == 4  # 7 files, 3 done before the kill
    fresh = prepare("gtzan", root, tmp_path / "fresh", clip_seconds=2.0, workers=1, progress=False, warn=lambda _: None)
    cols = ["clip_id", "track_id", "start_s", "end_s", "split", "style"]
    pd.testing.assert_frame_equal(read_manifest(out)[cols], read_manifest(tmp_path / "fresh")[cols])
    assert fresh.summary["clips"] == resumed.summary["clips"]


def test_lost_cache_entry_is_recomputed(tmp_path):
    root = make_gtzan(tmp_path / "g", seconds=5.0)
    out = tmp_path / "out"
    prepare("gtzan", root, out, clip_seconds=2.0, limit=2, workers=1, progress=False, warn=lambda _: None)
    entry = next((out / "cache").rglob("*.npy"))
    entry.unlink()
    again = prepare("gtzan", root, out, clip_seconds=2.0, limit=2, workers=1, progress=False, warn=lambda _: None)
    assert again.jobs_run == 1 and entry.is_file()
