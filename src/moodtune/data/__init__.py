"""Datasets -> manifests (one row per clip) + a feature cache beside them."""

from moodtune.data.manifest import MANIFEST_COLUMNS, read_manifest, read_summary
from moodtune.data.prepare import DATASETS, prepare

__all__ = ["DATASETS", "MANIFEST_COLUMNS", "prepare", "read_manifest", "read_summary"]
