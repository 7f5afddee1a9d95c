import numpy as np
import pytest
import scipy.linalg

from moodtune.errors import MoodtuneError
from moodtune.evaluation.fad import (
    MfccEmbedding,
    frechet_audio_distance,
    frechet_distance,
    gaussian_statistics,
    make_embedding,
)
from tests.conftest import music_like


def scipy_frechet(mu1, s1, mu2, s2):
    """The formula as the frechet-audio-distance package writes it, with scipy's sqrtm."""
    covmean = scipy.linalg.sqrtm(s1.dot(s2))
    covmean = covmean.real
    diff = mu1 - mu2
    return diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean)


def test_identical_sets_give_zero(rng):
    x = rng.normal(size=(500, 8))
    assert abs(frechet_audio_distance(x, x)) < 1e-8


def test_shifted_gaussian_matches_the_closed_form():
    mu1, mu2 = np.zeros(4), np.array([1.0, -2.0, 0.5, 0.0])
    s1, s2 = np.diag([1.0, 4.0, 0.25, 1.0]), np.diag([4.0, 1.0, 1.0, 1.0])
    # diagonal covariances: |mu1 - mu2|^2 + sum (sigma1 - sigma2)^2
    expected = 1 + 4 + 0.25 + (1 - 2) ** 2 + (2 - 1) ** 2 + (0.5 - 1) ** 2
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, abs=1e-10)
    # same covariance: only the shift remains
    assert frechet_distance(mu1, s1, mu2, s1) == pytest.approx(float(mu2 @ mu2), abs=1e-10)


def test_matches_an_independent_scipy_computation(rng):
    a = rng.normal(size=(300, 6)) @ rng.normal(size=(6, 6))
    b = rng.normal(size=(200, 6)) @ rng.normal(size=(6, 6)) + 0.3
    ours = frechet_audio_distance(a, b)
    ref = scipy_frechet(*gaussian_statistics(a), *gaussian_statistics(b))
    assert ours == pytest.approx(ref, abs=1e-6)


def test_too_few_embeddings_are_refused():
    with pytest.raises(MoodtuneError):
        frechet_audio_distance(np.zeros((1, 3)), np.zeros((5, 3)))


def test_mfcc_embedding_shapes_and_separation():
    emb = MfccEmbedding()
    a = emb.embed(music_like(5.0, 22050, seed=1), 22050)
    assert a.shape == (5, 40) and np.isfinite(a).all()
    b = emb.embed(music_like(5.0, 44100, seed=2), 44100)  # resampled to 22050
    assert b.shape == (5, 40)
    noise = np.random.default_rng(0).normal(0, 0.3, 22050 * 5).astype(np.float32)
    music = np.concatenate([emb.embed(music_like(5.0, 22050, seed=s), 22050) for s in range(4)])
    music2 = np.concatenate([emb.embed(music_like(5.0, 22050, seed=s + 10), 22050) for s in range(4)])
    noisy = np.concatenate([emb.embed(noise * (s + 1) / 4, 22050) for s in range(4)])
    assert frechet_audio_distance(music, music2) < frechet_audio_distance(music, noisy)


def test_unknown_embedding_and_mood_without_model():
    with pytest.raises(MoodtuneError, match="unknown embedding"):
        make_embedding("vggish2")
    with pytest.raises(MoodtuneError, match="needs a mood model"):
        make_embedding("mood")


@pytest.fixture(scope="module")
def tiny_clap(tmp_path_factory):
    """A randomly initialised, tiny CLAP saved like a download (model + feature extractor)."""
    import torch
    from transformers import ClapConfig, ClapFeatureExtractor, ClapModel

    torch.manual_seed(0)
    config = ClapConfig(
        text_config={
            "vocab_size": 100,
            "hidden_size": 16,
            "num_hidden_layers": 1,
            "num_attention_heads": 1,
            "intermediate_size": 32,
            "projection_dim": 8,
        },
        audio_config={
            "depths": [1, 1],
            "num_attention_heads": [1, 1],
            "patch_embeds_hidden_size": 8,
            "hidden_size": 16,
            "projection_dim": 8,
        },
        projection_dim=8,
    )
    folder = tmp_path_factory.mktemp("tiny_clap")
    ClapModel(config).save_pretrained(folder)
    ClapFeatureExtractor().save_pretrained(folder)
    return folder


def test_clap_embedding_loads_from_a_folder_and_embeds_windows(tiny_clap):
    emb = make_embedding("clap", path=str(tiny_clap))
    assert emb.name == "clap" and emb.sr == 48000
    frames = emb.embed(music_like(12.0, 22050), 22050)  # a 10 s window and a 2 s one
    assert frames.shape == (2, 8) and np.isfinite(frames).all()
    same = emb.embed(music_like(12.0, 22050), 22050)
    other = emb.embed(music_like(12.0, 22050, seed=3), 22050)
    assert np.allclose(frames, same) and not np.allclose(frames, other)


def test_clap_errors_are_clear(tmp_path):
    with pytest.raises(MoodtuneError, match="needs the path"):
        make_embedding("clap")
    with pytest.raises(MoodtuneError, match="cannot load CLAP"):
        make_embedding("clap", path=str(tmp_path / "no weights here"))
