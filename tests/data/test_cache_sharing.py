"""A cache shared by many processes: readers never see half an entry, entries are computed once, two prepare runs
on one folder both succeed, and training reads entries lazily."""

from __future__ import annotations

import multiprocessing as mp
import os
import pickle
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from moodtune.data import prepare, read_manifest
from moodtune.data.cache import CachedArray, FeatureCache, LogMelFeature
from moodtune.data.manifest import read_summary
from moodtune.data.torch_datasets import MelSliceDataset, style_vocabulary
from moodtune.errors import DatasetError

FORK = mp.get_context("fork")


class ConstantFeature:
    """A feature whose value says which process wrote it: ``[rows, 4096]`` filled with ``value``."""

    name = "constant"
    sr = 8000

    def __init__(self, value: float = 1.0, rows: int = 64, log: Path | None = None, delay: float = 0.0) -> None:
        self.value, self.rows, self.log, self.delay = value, rows, log, delay

    def params(self) -> dict:
        return {"kind": "constant"}  # every writer's entries share one folder

    def compute(self, audio: np.ndarray) -> np.ndarray:
        if self.log is not None:
            with open(self.log, "a") as f:
                f.write(f"{os.getpid()}\n")
        time.sleep(self.delay)
        return np.full((self.rows, 4096), self.value, dtype=np.float32)


def _write_many(data_dir: Path, value: float, rows: int, times: int) -> None:
    cache, feature = FeatureCache(data_dir), ConstantFeature(value, rows)
    for _ in range(times):
        cache.put(feature, "clip", "fp", feature.compute(np.zeros(1)))


def test_readers_never_see_a_half_written_entry(tmp_path):
    cache, feature = FeatureCache(tmp_path), ConstantFeature()
    cache.put(feature, "clip", "fp", np.full((64, 4096), 1.0, dtype=np.float32))
    writers = [FORK.Process(target=_write_many, args=(tmp_path, v, r, 150)) for v, r in ((2.0, 96), (3.0, 32))]
    for w in writers:
        w.start()
    seen, reads = set(), 0
    while any(w.is_alive() for w in writers) or reads < 20:
        for value in (
            cache.load(feature, "clip", "fp"),
            np.asarray(cache.open_row(feature, {"clip_id": "clip", "fingerprint": "fp"})),
        ):
            first = float(value.flat[0])
            assert (value == first).all(), "an entry mixed two writes"
            assert value.shape == ({1.0: 64, 2.0: 96, 3.0: 32}[first], 4096), "an entry was read half-written"
            seen.add(first)
            reads += 1
    for w in writers:
        w.join()
        assert w.exitcode == 0
    assert {2.0, 3.0} <= seen | {float(cache.load(feature, "clip", "fp").flat[0])}
    assert not [p for p in cache.folder(feature).iterdir() if p.name.endswith(".tmp.npy")]  # no temporary left


def _ensure(data_dir: Path, manifest: pd.DataFrame, log: Path, result: mp.Queue) -> None:
    result.put(FeatureCache(data_dir).ensure(manifest, ConstantFeature(log=log, delay=0.05), progress=False))


def test_processes_sharing_a_cache_compute_each_entry_once(tmp_path):
    audio = tmp_path / "a.wav"
    import soundfile as sf

    sf.write(audio, np.zeros(8000, dtype=np.float32), 8000)
    manifest = pd.DataFrame(
        [{"clip_id": f"c{i}", "path": str(audio), "start_s": 0.0, "end_s": 1.0, "fingerprint": "f"} for i in range(8)]
    )
    log, results = tmp_path / "computed.txt", FORK.Queue()
    procs = [FORK.Process(target=_ensure, args=(tmp_path, manifest, log, results)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join()
        assert p.exitcode == 0
    counts = sorted(results.get(timeout=5) for _ in procs)
    assert counts == [0, 8]  # one process computed everything; the other waited, then found it done
    assert len(log.read_text().split()) == 8


def test_a_damaged_entry_is_named(tmp_path):
    cache, feature = FeatureCache(tmp_path), ConstantFeature()
    path = cache.put(feature, "clip", "fp", np.ones((4, 4096), dtype=np.float32))
    path.write_bytes(path.read_bytes()[:60])  # truncated: the header survives, the data does not
    with pytest.raises(DatasetError, match=f"{path}: damaged cache entry"):
        cache.load(feature, "clip", "fp")
    path.write_bytes(b"not an array")
    with pytest.raises(DatasetError, match=r"damaged cache entry.*moodtune prepare"):
        cache.open_row(feature, {"clip_id": "clip", "fingerprint": "fp"})


def test_cached_array_reads_only_what_is_asked(tmp_path):
    value = np.arange(3 * 1000, dtype=np.float16).reshape(3, 1000)
    path = tmp_path / "x.npy"
    np.save(path, value)
    lazy = CachedArray(path)
    assert lazy.shape == (3, 1000) and lazy.dtype == np.float16 and len(lazy) == 3
    np.testing.assert_array_equal(lazy[:, 10:20], value[:, 10:20])
    np.testing.assert_array_equal(np.asarray(lazy, dtype=np.float32), value.astype(np.float32))
    assert len(pickle.dumps(lazy)) < 500  # a path and a shape, not the data


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("lazy")
    prepare("builtin", None, out, clip_seconds=4.0, limit=2, workers=1, progress=False)
    return out


def test_mel_slices_are_read_lazily_and_match_the_cache(prepared):
    manifest = read_manifest(prepared)
    styles = style_vocabulary(manifest)
    ds = MelSliceDataset(prepared, "train", styles, 64, manifest=manifest)
    cache, feature = FeatureCache(prepared), LogMelFeature()
    rows = manifest[manifest["split"] == "train"].to_dict("records")
    whole = cache.load_row(feature, rows[0])
    np.testing.assert_array_equal(ds[0]["x"][0].numpy(), whole[:, :64].astype(np.float32))
    cached_bytes = sum(cache.load_row(feature, r).nbytes for r in rows)
    assert len(pickle.dumps(ds)) < cached_bytes / 10  # the dataset holds where the entries are, not the entries


def test_two_prepare_runs_on_one_folder_both_succeed(tmp_path):
    out = tmp_path / "shared"
    cmd = [sys.executable, "-m", "moodtune", "prepare", "builtin", "--out", str(out), "--clip-seconds", "4"]
    cmd += ["--limit", "2", "--workers", "1"]
    runs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [r.communicate(timeout=240) for r in runs]
    assert [r.returncode for r in runs] == [0, 0], outputs
    manifest = read_manifest(out)
    assert read_summary(out)["clips"] == len(manifest) > 0
    cache, feature = FeatureCache(out), LogMelFeature()
    assert all(cache.load_row(feature, r).shape[0] == 128 for r in manifest.to_dict("records"))
