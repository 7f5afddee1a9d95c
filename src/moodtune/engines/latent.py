"""Latent engine: an emotional VAE over neural-codec latent sequences, decoded by the codec.

Training clips are ``clip_seconds`` long (5 s by default; 10 s also works). Generation draws one VAE latent
per clip-long window from the mood-conditional prior (AR(1)-correlated between windows), decodes it to
a codec latent sequence, lets the codec decode that to audio, raises each window by the engine's level
correction for its mood, and crossfades neighbouring windows over ``overlap_s`` seconds; the output has
exactly the requested length.

The level correction (fitted after training, see :func:`moodtune.training.latent.fit_output_level`)
measures how much quieter the whole chain (VAE, then codec) gives back training clips of each mood. Runs
saved before it existed have none; their windows are levelled by the codec's own correction instead.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import torch

from moodtune.audio.io import peak_gain
from moodtune.engines.base import Engine, Request, Result
from moodtune.engines.checkpoint import load_checkpoint
from moodtune.engines.codecs import Codec, open_codec
from moodtune.engines.sampling import join_windows, label_tensors, window_latents, window_layout
from moodtune.labels import style_index
from moodtune.models.latent_prior import LatentPrior, prior_from_state, prior_state
from moodtune.models.latent_vae import LatentVAE, LatentVAEConfig
from moodtune.models.level import LevelCorrection, level_from_state, level_state


def _prefixed(state: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k.removeprefix(prefix): v for k, v in state.items() if k.startswith(prefix)}


class LatentEngine(Engine):
    """Generate and reconstruct audio with a codec and the emotional VAE over its latents."""

    name = "latent"
    component = "codec"

    def __init__(
        self,
        model: LatentVAE,
        codec: Codec,
        styles: list[str],
        clip_seconds: float,
        prior: LatentPrior | None = None,
        device: str = "cpu",
        overlap_s: float = 0.5,
        continuity: float = 0.3,
        config: dict[str, Any] | None = None,
        level: LevelCorrection | None = None,
    ) -> None:
        self.model = model.to(device).eval()
        self.codec = codec
        self.styles = styles
        self.clip_seconds = clip_seconds
        self.prior = prior.to(device) if prior is not None else None
        self.device = device
        self.continuity = continuity
        self.config = config or {}
        self.level = level.to(device) if level is not None else None
        self.clip_samples = round(clip_seconds * self.sr)
        self.overlap = min(round(overlap_s * self.sr), self.clip_samples // 4)

    @property
    def sr(self) -> int:
        """The codec's sample rate."""
        return self.codec.sr

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], device: str = "cpu") -> LatentEngine:
        state, config = load_checkpoint(path, engine=cls.name)
        model = LatentVAE(LatentVAEConfig.from_dict(config["model"]))
        model.load_state_dict(_prefixed(state, "vae."))
        prior = prior_from_state(state, model.config.latent_dim)
        codec_state = _prefixed(state, "codec.")
        codec = open_codec(config["codec"], device, codec_state or None, config.get("codec_config"), local_only=True)
        return cls(
            model,
            codec,
            config["styles"],
            config["clip_seconds"],
            prior,
            device,
            config=config,
            level=level_from_state(state),
        )

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Weights to export: ``vae.*``, ``prior.*``, ``level.*`` and the codec's own under ``codec.*`` (if it
        embeds any)."""
        state = {f"vae.{k}": v for k, v in self.model.state_dict().items()}
        state |= prior_state(self.prior) | level_state(self.level)
        state.update({f"codec.{k}": v for k, v in self.codec.state_dict().items()})
        return state

    @torch.no_grad()
    def decode_clips(self, z: torch.Tensor, mood: torch.Tensor, style: torch.Tensor, length: int) -> np.ndarray:
        """VAE latents ``[N, latent_dim]`` with their ``mood [N, 3]`` -> N codec-decoded clips, each raised by the
        level correction for its mood, crossfaded into audio ``[length]``."""
        seqs = self.model.decode(z, mood, style).cpu()
        if self.level is None:  # a run saved before the engine had its own correction: the codec's
            clips = [self.codec.decode(s, self.clip_samples, m) for s, m in zip(seqs, mood.cpu(), strict=True)]
        else:
            gains = self.level.amplitude(mood).cpu().numpy()
            clips = [self.codec.decode(s, self.clip_samples) * g for s, g in zip(seqs, gains, strict=True)]
        return join_windows(torch.from_numpy(np.stack(clips))[:, None], self.overlap, length)

    def generate(self, request: Request) -> Result:
        self.options(request)
        request = self.with_style(request)
        length = round(request.seconds * self.sr)
        _, centres = window_layout(length, self.clip_samples, self.overlap, self.sr)
        z, mood, style = window_latents(
            request, centres, self.model.config.latent_dim, self.prior, self.continuity, self.styles, self.device
        )
        audio = self.decode_clips(z, mood, style, length)
        audio *= peak_gain(audio)
        meta = {"engine": self.name, "codec": self.codec.kind, "seconds": request.seconds, "seed": request.seed}
        return Result(audio, self.sr, None, meta)

    def component_roundtrip(self, audio: np.ndarray) -> np.ndarray:
        """Audio ``[T]`` through the codec alone (the upper bound of any reconstruction) -> ``[T]``."""
        return self.codec.decode(self.codec.encode(audio), len(audio))

    @torch.no_grad()
    def encode_latents(
        self,
        latents: torch.Tensor,
        valence: float | None = None,
        arousal: float | None = None,
        style: str | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Codec latents ``[D, F]`` -> posterior means ``[N, latent_dim]`` of its clip-long windows (last one
        padded with its final frame), with their ``mood [N, 3]`` and ``style [N]``."""
        f = self.model.config.frames
        n = max(1, math.ceil(latents.shape[1] / f))
        padded = torch.nn.functional.pad(latents[None], (0, n * f - latents.shape[1]), mode="replicate")[0]
        windows = padded.reshape(latents.shape[0], n, f).permute(1, 0, 2).to(self.device)
        mood, styles = label_tensors(n, valence, arousal, style_index(self.styles, style), self.device)
        return self.model.encode(windows, mood, styles)[0], mood, styles

    @torch.no_grad()
    def reconstruct_latents(self, latents: torch.Tensor, **labels: Any) -> torch.Tensor:
        """Codec latents ``[D, F]`` -> through the VAE (posterior means) -> ``[D, F]``."""
        mu, mood, styles = self.encode_latents(latents, **labels)
        out = self.model.decode(mu, mood, styles).cpu()  # [N, D, f]
        return out.permute(1, 0, 2).reshape(out.shape[1], -1)[:, : latents.shape[1]]

    def reconstruct_audio(
        self, audio: np.ndarray, valence: float | None = None, arousal: float | None = None, style: str | None = None
    ) -> np.ndarray:
        """Audio ``[T]`` -> codec -> VAE -> codec decoder -> ``[T]``."""
        latents = self.codec.encode(audio)
        rec = self.reconstruct_latents(latents, valence=valence, arousal=arousal, style=style)
        return self.codec.decode(rec, len(audio))
