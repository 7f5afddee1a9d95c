"""Feature cache beside a manifest: one .npy per (feature, parameters, clip).

A feature is anything with a ``name``, a ``params()`` dict and ``compute(audio, sr)``; its
entries live in ``cache/<name>-<hash of params>/``, so changing a parameter never reuses a
stale entry. Engines register their own features by implementing :class:`Feature` and calling
:meth:`FeatureCache.ensure`.

Many processes may share a cache (the ranks of a multi-GPU run, two ``prepare`` runs): an entry is
written to a temporary file, read back and checked, then renamed into place, so a reader sees a whole
entry or none; :meth:`FeatureCache.ensure` fills a feature's folder under a lock, so the entries are
computed once. Training reads entries lazily (:class:`CachedArray`): a dataset larger than memory trains.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import numpy as np
import pandas as pd

from moodtune.audio.features import LogMel, MelConfig
from moodtune.audio.io import load_audio
from moodtune.errors import DatasetError
from moodtune.fsutil import atomic_path, file_lock, write_json_atomic
from moodtune.progress import progress_bar

CACHE_DIR = "cache"
LOCK_FILE = ".lock"


class Feature(Protocol):
    """A per-clip feature computed from mono audio."""

    name: str
    sr: int

    def params(self) -> dict[str, Any]:
        """Everything that changes the output (hashed into the cache folder name)."""
        ...

    def compute(self, audio: np.ndarray) -> np.ndarray:
        """``audio`` ``[T]`` float32 at ``self.sr`` -> feature array."""
        ...


class LogMelFeature:
    """Scaled log-mel ``[n_mels, frames]`` stored as float16 (values in [0, 1])."""

    name = "logmel"

    def __init__(self, config: MelConfig | None = None) -> None:
        self.config = config or MelConfig()
        self.sr = self.config.sr
        self._logmel: LogMel | None = None

    def params(self) -> dict[str, Any]:
        return {**self.config.to_dict(), "dtype": "float16"}

    def compute(self, audio: np.ndarray) -> np.ndarray:
        if self._logmel is None:
            self._logmel = LogMel(self.config)
        return self._logmel(audio).numpy().astype(np.float16)


def params_hash(params: dict[str, Any]) -> str:
    """Short stable hash of a parameter dict."""
    return hashlib.sha1(json.dumps(params, sort_keys=True).encode()).hexdigest()[:10]


def clip_fingerprint(path: str | os.PathLike[str], start_s: float, end_s: float) -> str:
    """Identity of a clip's audio: file path, size, modification time and the excerpt bounds."""
    st = os.stat(path)
    text = f"{os.path.abspath(path)}|{st.st_size}|{st.st_mtime_ns}|{start_s:.4f}|{end_s:.4f}"
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def _slug(clip_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", clip_id)[-120:]


class FeatureCache:
    """Read and write cached features under ``<data_dir>/cache``."""

    def __init__(self, data_dir: str | os.PathLike[str]) -> None:
        self.root = Path(data_dir) / CACHE_DIR

    def folder(self, feature: Feature) -> Path:
        """Folder of ``feature``'s entries (its params are written there as params.json)."""
        return self.root / f"{feature.name}-{params_hash(feature.params())}"

    def entry(self, feature: Feature, clip_id: str, fingerprint: str) -> Path:
        """Path of one clip's entry."""
        return self.folder(feature) / f"{_slug(clip_id)}-{fingerprint}.npy"

    def has(self, feature: Feature, clip_id: str, fingerprint: str) -> bool:
        """Whether the entry exists."""
        return self.entry(feature, clip_id, fingerprint).is_file()

    def put(self, feature: Feature, clip_id: str, fingerprint: str, value: np.ndarray) -> Path:
        """Store ``value`` atomically."""
        folder = self.folder(feature)
        params_file = folder / "params.json"
        if not params_file.is_file():
            write_json_atomic(params_file, {"name": feature.name, **feature.params()})
        path = self.entry(feature, clip_id, fingerprint)
        with atomic_path(path) as tmp:
            np.save(tmp, value)
            written = CachedArray(tmp)  # verified before it is visible under its name: header, and size on disk
            if (written.shape, written.dtype) != (value.shape, value.dtype) or tmp.stat().st_size < value.nbytes:
                raise OSError(f"{path}: the entry read back differs from the one written")
        return path

    def load(self, feature: Feature, clip_id: str, fingerprint: str) -> np.ndarray:
        """Load one entry (FileNotFoundError when absent, DatasetError when damaged)."""
        path = self.entry(feature, clip_id, fingerprint)
        try:
            return np.load(path)
        except FileNotFoundError:
            raise
        except (OSError, ValueError, EOFError) as exc:
            raise damaged(path, exc) from exc

    def load_row(self, feature: Feature, row: pd.Series | dict[str, Any]) -> np.ndarray:
        """Load the entry of a manifest row."""
        return self.load(feature, row["clip_id"], row["fingerprint"])

    def open_row(self, feature: Feature, row: pd.Series | dict[str, Any]) -> CachedArray:
        """The entry of a manifest row, read on demand (FileNotFoundError when absent, DatasetError when damaged)."""
        return CachedArray(self.entry(feature, row["clip_id"], row["fingerprint"]))

    def ensure(self, manifest: pd.DataFrame, feature: Feature, workers: int = 1, progress: bool = True) -> int:
        """Compute every missing entry of ``feature`` for the manifest's clips. Returns how many were computed."""
        todo = [r for r in manifest.to_dict("records") if not self.has(feature, r["clip_id"], r["fingerprint"])]
        if not todo:
            return 0
        folder = self.folder(feature)
        waiting = f"waiting for another process that is caching {feature.name} in {folder}" if progress else None
        with file_lock(folder / LOCK_FILE, waiting):  # one process computes; the others then find the entries
            todo = [r for r in todo if not self.has(feature, r["clip_id"], r["fingerprint"])]
            if todo:
                self._compute(todo, feature, workers, progress)
        return len(todo)

    def _compute(self, todo: list[dict[str, Any]], feature: Feature, workers: int, progress: bool) -> None:
        with progress_bar(f"caching {feature.name}", total=len(todo), enabled=progress) as advance:
            if workers <= 1:
                for row in todo:
                    _compute_entry(self.root.parent, feature, row)
                    advance()
            else:
                with ProcessPoolExecutor(max_workers=workers, initializer=_worker_init) as pool:
                    for _ in pool.map(_compute_entry, [self.root.parent] * len(todo), [feature] * len(todo), todo):
                        advance()


def damaged(path: Path, exc: BaseException) -> DatasetError:
    """The error for a cache entry that cannot be read (truncated or overwritten by hand)."""
    return DatasetError(f"{path}: damaged cache entry ({exc}); delete it and run 'moodtune prepare' again")


class CachedArray:
    """A cache entry read on demand: ``shape``, ``dtype`` and ``len()`` come from the .npy header; indexing maps
    the file, copies the part asked for and lets the mapping go, so a dataset of any size holds in memory only
    what a batch reads. ``np.asarray(entry)`` reads it whole."""

    def __init__(self, path: Path) -> None:
        self.path = path
        with self._open() as (_, shape, dtype, _):
            self.shape: tuple[int, ...] = shape
            self.dtype = dtype

    @contextlib.contextmanager
    def _open(self) -> Iterator[tuple[BinaryIO, tuple[int, ...], np.dtype, bool]]:
        """The open file, positioned at its data, with the header's shape, dtype and Fortran order."""
        with open(self.path, "rb") as f:
            try:
                version = np.lib.format.read_magic(f)
                if version == (1, 0):
                    shape, fortran, dtype = np.lib.format.read_array_header_1_0(f)
                else:
                    shape, fortran, dtype = np.lib.format.read_array_header_2_0(f)
            except (OSError, ValueError, EOFError) as exc:
                raise damaged(self.path, exc) from exc
            yield f, tuple(shape), np.dtype(dtype), fortran

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> np.ndarray:
        # header and data from one open file: a writer renaming a new entry into place meanwhile cannot mix them
        with self._open() as (f, shape, dtype, fortran):
            try:
                order = "F" if fortran else "C"
                mapped = np.memmap(f, dtype=dtype, mode="r", shape=shape, offset=f.tell(), order=order)
            except (OSError, ValueError) as exc:  # shorter than its header says
                raise damaged(self.path, exc) from exc
            return np.array(mapped[key])

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> np.ndarray:
        whole = self[...]
        return whole if dtype is None else whole.astype(dtype)


def _worker_init() -> None:
    import torch

    torch.set_num_threads(1)


def _compute_entry(data_dir: Path, feature: Feature, row: dict[str, Any]) -> None:
    audio, _ = load_audio(row["path"], sr=feature.sr, start_s=row["start_s"], end_s=row["end_s"], check_silence=False)
    n = round((row["end_s"] - row["start_s"]) * feature.sr)
    audio = np.pad(audio[:n], (0, max(0, n - len(audio))))
    FeatureCache(data_dir).put(feature, row["clip_id"], row["fingerprint"], feature.compute(audio))
