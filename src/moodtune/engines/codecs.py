"""Neural audio codecs the latent engine works over, behind one interface.

A codec turns mono audio ``[T]`` at its rate into a latent sequence ``[dim, frames]`` and back:

- :class:`EncodecCodec`: EnCodec through ``transformers.EncodecModel``; weights from a local folder
  (``save_pretrained`` layout) or a hub id on a machine that is online. Latents are the quantised
  embeddings (``quantizer.decode`` of the codes at the chosen bandwidth), which is what its decoder expects.
- :class:`SpectrogramCodec`: the project's own spectrogram VAE (a ``moodtune train spectrogram`` run):
  posterior means of 128-frame log-mel slices every ``hop_frames`` frames; decoding overlap-adds the
  decoded slices and runs the Griffin-Lim vocoder. It is conditioned on a fixed neutral mood on both
  sides, so it stays a label-free codec; the offline default.

``codec_spec`` dicts (``{"kind": ..., "path": ...}``) name a codec in configs; :func:`open_codec` builds it.
"""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import torch

from moodtune.engines.checkpoint import resolve_checkpoint
from moodtune.engines.sampling import crossfade_slices
from moodtune.engines.spectrogram import SpectrogramEngine
from moodtune.errors import MoodtuneError

#: Condition of the spectrogram codec: valence 0, arousal 0, known.
NEUTRAL_MOOD = (0.0, 0.0, 1.0)


class Codec(Protocol):
    """What the latent engine needs from a codec."""

    kind: str
    sr: int
    dim: int
    frame_rate: float

    def encode(self, audio: np.ndarray) -> torch.Tensor:
        """Mono ``audio [T]`` at ``sr`` -> latents ``[dim, frames]``."""
        ...

    def decode(self, latents: torch.Tensor, samples: int, mood: torch.Tensor | None = None) -> np.ndarray:
        """Latents ``[dim, frames]`` -> audio ``[samples]`` (float32). Given a ``mood [3]``, a codec with a level
        correction applies it for that mood (generation); others ignore it, and without one none is applied."""
        ...

    def frames(self, seconds: float) -> int:
        """Latent frames :meth:`encode` gives for ``seconds`` of audio."""
        ...

    def spec(self) -> dict[str, Any]:
        """Plain dict that :func:`open_codec` turns back into this codec (stored in checkpoints)."""
        ...

    def identity(self) -> dict[str, Any]:
        """Everything that changes the latents, for the feature cache (weights included, by hash)."""
        ...

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Weights a checkpoint must embed to be self-contained (empty when they stay outside)."""
        ...


def _file_digest(path: Path) -> str:
    h = hashlib.sha1()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()[:12]


class EncodecCodec:
    """EnCodec (24 kHz by default) via ``transformers``; continuous embeddings of its quantised codes."""

    kind = "encodec"

    def __init__(self, path: str, bandwidth: float = 6.0, device: str = "cpu", local_only: bool = False) -> None:
        """``path``: a folder written by ``save_pretrained``, or (unless ``local_only``, as when a checkpoint's
        config names it) a hub id that is downloaded."""
        if local_only and not Path(path).is_dir():
            raise MoodtuneError(
                f"codec path {path!r}: a checkpoint may only name a local folder; moodtune reads no model from the "
                "network while loading one"
            )
        try:
            from transformers import EncodecModel
        except ImportError as exc:  # pragma: no cover - transformers is a dependency
            raise MoodtuneError("the EnCodec codec needs the transformers package") from exc
        self.path = str(path)
        local = Path(path)
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        try:
            self.model = EncodecModel.from_pretrained(str(local) if local.exists() else self.path).to(device).eval()
        except (OSError, ValueError) as exc:
            raise MoodtuneError(
                f"cannot load EnCodec weights from {path!r}: give a folder written by save_pretrained "
                f"(config.json + model.safetensors), or a hub id on a machine that is online ({exc})"
            ) from exc
        finally:
            hf_logging.enable_progress_bar()
        config = self.model.config
        if bandwidth not in config.target_bandwidths:
            raise MoodtuneError(
                f"{path}: bandwidth {bandwidth} kbps is not one of this model's {list(config.target_bandwidths)}"
            )
        self.bandwidth = bandwidth
        self.device = device
        self.sr = int(config.sampling_rate)
        self.dim = int(config.hidden_size)
        self.hop = int(np.prod(config.upsampling_ratios))
        self.frame_rate = self.sr / self.hop
        self._weights = local / "model.safetensors" if local.is_dir() else None

    def frames(self, seconds: float) -> int:
        return math.ceil(round(seconds * self.sr) / self.hop)

    @torch.no_grad()
    def encode(self, audio: np.ndarray) -> torch.Tensor:
        x = torch.from_numpy(np.asarray(audio, np.float32)).to(self.device)[None, None]
        out = self.model.encode(x, bandwidth=self.bandwidth)
        codes = out.audio_codes[0].transpose(0, 1)  # [n_quantizers, 1, frames]
        return self.model.quantizer.decode(codes)[0].cpu()

    @torch.no_grad()
    def decode(self, latents: torch.Tensor, samples: int, mood: torch.Tensor | None = None) -> np.ndarray:
        audio = self.model.decoder(latents.to(self.device)[None])[0, 0, :samples].cpu().numpy()
        return np.pad(audio, (0, max(0, samples - len(audio)))).astype(np.float32)

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "bandwidth": self.bandwidth}

    def identity(self) -> dict[str, Any]:
        weights = _file_digest(self._weights) if self._weights and self._weights.is_file() else self.path
        return {**self.spec(), "weights": weights}

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {}


class SpectrogramCodec:
    """A trained spectrogram VAE used as a codec: one latent per log-mel slice, every ``hop_frames`` frames."""

    kind = "spectrogram"

    def __init__(self, engine: Any, path: str = "", hop_frames: int = 32) -> None:
        if not isinstance(engine, SpectrogramEngine):
            raise MoodtuneError("the spectrogram codec needs a spectrogram checkpoint")
        if not 1 <= hop_frames <= engine.slice_frames:
            raise MoodtuneError(f"hop_frames must lie in [1, {engine.slice_frames}], got {hop_frames}")
        self.engine = engine
        self.path = str(path)
        self.hop_frames = hop_frames
        mel = engine.mel_config
        self.sr = mel.sr
        self.dim = engine.model.config.latent_dim
        self.frame_rate = mel.sr / (mel.hop_length * hop_frames)

    @classmethod
    def from_run(cls, path: str | os.PathLike[str], hop_frames: int = 32, device: str = "cpu") -> SpectrogramCodec:
        """Open a ``moodtune train spectrogram`` run."""
        return cls(SpectrogramEngine.from_checkpoint(path, device), str(path), hop_frames)

    def frames(self, seconds: float) -> int:
        """Slices every ``hop_frames`` frames until one reaches the end (as :meth:`encode` makes them)."""
        mel_frames = self.engine.mel_config.frames(round(seconds * self.sr))
        return math.ceil(max(mel_frames - self.engine.slice_frames, 0) / self.hop_frames) + 1

    def _condition(self, n: int) -> tuple[torch.Tensor, torch.Tensor]:
        mood = torch.tensor([NEUTRAL_MOOD] * n, dtype=torch.float32)
        return mood, torch.zeros(n, dtype=torch.long)

    @torch.no_grad()
    def encode(self, audio: np.ndarray) -> torch.Tensor:
        slices = self.engine.strided_slices(self.engine.logmel(audio), self.hop_frames)
        return self.engine.encode_slices(slices, *self._condition(len(slices))).T.cpu()

    @torch.no_grad()
    def decode(self, latents: torch.Tensor, samples: int, mood: torch.Tensor | None = None) -> np.ndarray:
        z = latents.T
        level_mood = None if mood is None else mood.reshape(1, 3).expand(len(z), 3)
        slices = self.engine.decode_slices(
            z, *self._condition(len(z)), level_mood=level_mood, correct_level=level_mood is not None
        )
        mel = crossfade_slices(slices, self.engine.slice_frames - self.hop_frames)
        frames = self.engine.mel_config.frames(samples)  # the vocoder wants exactly the frames of `samples`
        mel = torch.nn.functional.pad(mel[None, :, :frames], (0, max(0, frames - mel.shape[1])), mode="replicate")[0]
        return self.engine.vocoder(mel, length=samples).cpu().numpy().astype(np.float32)

    def spec(self) -> dict[str, Any]:
        return {"kind": self.kind, "path": self.path, "hop_frames": self.hop_frames}

    def identity(self) -> dict[str, Any]:
        weights = _file_digest(resolve_checkpoint(self.path) / "model.safetensors") if self.path else "embedded"
        return {"kind": self.kind, "hop_frames": self.hop_frames, "weights": weights}

    def state_dict(self) -> dict[str, torch.Tensor]:
        return self.engine.state_dict()


def open_codec(
    spec: dict[str, Any],
    device: str = "cpu",
    state: dict[str, torch.Tensor] | None = None,
    config: dict[str, Any] | None = None,
    local_only: bool = False,
) -> Codec:
    """Build a codec from its spec; ``state``/``config`` are the weights and config embedded in a checkpoint, and
    ``local_only`` (a spec read from a checkpoint) refuses anything but a local folder."""
    kind = spec.get("kind")
    if kind == "encodec":
        return EncodecCodec(spec["path"], float(spec.get("bandwidth", 6.0)), device, local_only)
    if kind == "spectrogram":
        hop = int(spec.get("hop_frames", 32))
        if state is not None and config is not None:
            return SpectrogramCodec(SpectrogramEngine.from_state(state, config, device), spec.get("path", ""), hop)
        return SpectrogramCodec.from_run(spec["path"], hop, device)
    raise MoodtuneError(f"unknown codec {kind!r}; choose encodec or spectrogram")


class CodecLatentFeature:
    """A codec's latents ``[dim, frames]`` of a whole track, cached through :class:`FeatureCache` as float32."""

    def __init__(self, codec: Codec) -> None:
        self.codec = codec
        self.name = f"codec-{codec.kind}"
        self.sr = codec.sr
        # the cache asks for params() once per entry; the identity hashes the codec's weights, so once here
        self._params = {**codec.identity(), "sr": self.sr, "dtype": "float32"}

    def params(self) -> dict[str, Any]:
        return self._params

    def compute(self, audio: np.ndarray) -> np.ndarray:
        return self.codec.encode(audio).numpy().astype(np.float32)
