import numpy as np

from moodtune.data import prepare, read_manifest
from moodtune.data.cache import FeatureCache, params_hash
from tests.data.layouts import make_gtzan


class RmsFeature:
    """A feature an engine might add: frame RMS of 1024-sample frames."""

    name = "rms"
    sr = 8000

    def params(self):
        return {"frame": 1024, "sr": self.sr}

    def compute(self, audio):
        n = len(audio) // 1024
        return np.sqrt(np.mean(audio[: n * 1024].reshape(n, 1024) ** 2, axis=1)).astype(np.float32)


def test_engine_feature_through_the_same_cache(tmp_path):
    root = make_gtzan(tmp_path / "g", seconds=5.0)
    out = tmp_path / "o"
    prepare("gtzan", root, out, clip_seconds=2.0, limit=2, workers=1, progress=False, warn=lambda _: None)
    df = read_manifest(out)
    cache = FeatureCache(out)
    feature = RmsFeature()
    assert cache.ensure(df, feature, workers=2, progress=False) == len(df)
    assert cache.ensure(df, feature, workers=1, progress=False) == 0
    value = cache.load_row(feature, df.iloc[0])
    assert value.shape == (2 * 8000 // 1024,) and (value > 0).all()
    assert cache.folder(feature).name == f"rms-{params_hash(feature.params())}"
    assert (cache.folder(feature) / "params.json").is_file()
