"""Fréchet Audio Distance with pluggable embeddings.

FAD fits a Gaussian to each set's frame embeddings and returns the Fréchet distance between them:
``|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2)``.

Embeddings (``name -> [frames, D]`` per clip):

- ``mfcc`` (offline default, nothing to download): per 1 s block of log-mel frames, the mean and the
  standard deviation of 20 MFCCs -> 40 numbers;
- ``mood``: the mood model's penultimate layer per 4 s window (needs a mood model).
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from moodtune.audio.features import LogMel, MelConfig
from moodtune.audio.io import resample
from moodtune.errors import MoodtuneError
from moodtune.evaluation.descriptors import dct_matrix
from moodtune.evaluation.mood_model import MoodModel

EMBEDDINGS = ("mfcc", "mood", "clap")


def _sqrt_psd(m: np.ndarray) -> np.ndarray:
    w, v = np.linalg.eigh((m + m.T) / 2)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2); ``mu`` ``[D]``, ``sigma`` ``[D, D]``.

    The cross term uses the symmetric form ``S1^1/2 S2 S1^1/2`` (same trace as ``(S1 S2)^1/2``) so the
    square root is taken of a symmetric PSD matrix through its eigenvalues, which stays real.
    """
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.atleast_2d(np.asarray(sigma1, np.float64)), np.atleast_2d(np.asarray(sigma2, np.float64))
    root = _sqrt_psd(s1)
    cross = np.linalg.eigvalsh(root @ s2 @ root)
    trace_sqrt = float(np.sum(np.sqrt(np.clip(cross, 0.0, None))))
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(s1) + np.trace(s2) - 2.0 * trace_sqrt)


def gaussian_statistics(embeddings: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean ``[D]`` and covariance ``[D, D]`` of ``[N, D]`` embeddings (N >= 2)."""
    x = np.asarray(embeddings, np.float64)
    if x.ndim != 2 or len(x) < 2:
        raise MoodtuneError(f"FAD needs at least 2 embeddings, got shape {x.shape}")
    return x.mean(0), np.cov(x, rowvar=False)


def frechet_audio_distance(a: np.ndarray, b: np.ndarray) -> float:
    """FAD between two sets of frame embeddings ``[N, D]`` and ``[M, D]``."""
    return frechet_distance(*gaussian_statistics(a), *gaussian_statistics(b))


class Embedding(Protocol):
    """Audio clip -> frame embeddings ``[frames, D]``."""

    name: str

    def embed(self, audio: np.ndarray, sr: int) -> np.ndarray:
        """Mono ``[T]`` at ``sr`` -> ``[frames, D]``."""


class MfccEmbedding:
    """Mean and spread of 20 MFCCs per 1 s block of log-mel frames: ``[blocks, 40]``."""

    name = "mfcc"

    def __init__(self, sr: int = 22050, n_mfcc: int = 20, block_s: float = 1.0) -> None:
        self.sr = sr
        self.mel = LogMel(MelConfig(sr=sr))
        self.dct = torch.from_numpy(dct_matrix(self.mel.config.n_mels, n_mfcc).astype(np.float32))
        self.block = max(2, round(block_s * sr / self.mel.config.hop_length))

    def embed(self, audio: np.ndarray, sr: int) -> np.ndarray:
        """Mono ``[T]`` -> ``[blocks, 2 * n_mfcc]``."""
        audio = resample(np.asarray(audio, np.float32), sr, self.sr) if sr != self.sr else audio
        with torch.no_grad():
            mfcc = self.dct @ self.mel(audio)  # [n_mfcc, F]
        n = max(1, mfcc.shape[1] // self.block)
        size = mfcc.shape[1] // n
        blocks = mfcc[:, : n * size].reshape(mfcc.shape[0], n, size)
        return torch.cat([blocks.mean(-1), blocks.std(-1)], 0).T.numpy()


class MoodEmbedding:
    """The mood model's penultimate layer per 4 s window: ``[windows, embed_dim]``."""

    name = "mood"

    def __init__(self, model: MoodModel) -> None:
        self.model = model

    def embed(self, audio: np.ndarray, sr: int) -> np.ndarray:
        """Mono ``[T]`` -> ``[windows, embed_dim]``."""
        return self.model.embed(audio, sr)


class ClapEmbedding:
    """CLAP audio embeddings (``transformers.ClapModel``) per window of the model's input length (10 s at 48 kHz).

    Weights come from a local folder holding the model and its feature extractor (``save_pretrained``
    of ``ClapModel`` and ``ClapFeatureExtractor``, e.g. a download of ``laion/clap-htsat-unfused``),
    or a hub id on a machine that is online.
    """

    name = "clap"

    def __init__(self, path: str, device: str = "cpu", window_s: float | None = None) -> None:
        from transformers import ClapFeatureExtractor, ClapModel
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        try:
            self.model = ClapModel.from_pretrained(path).to(device).eval()
            self.extractor = ClapFeatureExtractor.from_pretrained(path)
        except (OSError, ValueError) as exc:
            raise MoodtuneError(
                f"cannot load CLAP from {path!r}: give a folder with a saved ClapModel and ClapFeatureExtractor, "
                f"or a hub id such as laion/clap-htsat-unfused on a machine that is online ({exc})"
            ) from exc
        finally:
            hf_logging.enable_progress_bar()
        self.device = device
        self.sr = int(self.extractor.sampling_rate)
        self.window = round((window_s or self.extractor.max_length_s) * self.sr)

    def embed(self, audio: np.ndarray, sr: int) -> np.ndarray:
        """Mono ``[T]`` -> ``[windows, projection_dim]`` (a last window shorter than 1 s is dropped)."""
        audio = resample(np.asarray(audio, np.float32), sr, self.sr)
        chunks = [audio[i : i + self.window] for i in range(0, len(audio), self.window)]
        chunks = [c for c in chunks if len(c) >= self.sr] or chunks[:1]
        # windows never exceed the model's input length, so nothing is truncated; the mode only has to
        # match the model (a fused CLAP takes 4 stacked views, an unfused one a single spectrogram)
        mode = "fusion" if self.model.config.audio_config.enable_fusion else "rand_trunc"
        inputs = self.extractor(chunks, sampling_rate=self.sr, return_tensors="pt", truncation=mode)
        with torch.no_grad():
            out = self.model.get_audio_features(input_features=inputs["input_features"].to(self.device))
        features = out if isinstance(out, torch.Tensor) else out.pooler_output
        return features.cpu().numpy().astype(np.float64)


def make_embedding(name: str, mood_model: MoodModel | None = None, path: str | None = None) -> Embedding:
    """An embedding by name (see :data:`EMBEDDINGS`); ``clap`` needs the ``path`` of its weights."""
    if name == "mfcc":
        return MfccEmbedding()
    if name == "mood":
        if mood_model is None:
            raise MoodtuneError("the 'mood' embedding needs a mood model")
        return MoodEmbedding(mood_model)
    if name == "clap":
        if path is None:
            raise MoodtuneError("the 'clap' embedding needs the path of CLAP weights (--clap DIR)")
        return ClapEmbedding(path)
    raise MoodtuneError(f"unknown embedding {name!r}; choose one of {', '.join(EMBEDDINGS)}")
