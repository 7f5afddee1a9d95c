"""Spectrogram engine: conditional VAE on 128-frame log-mel slices + Griffin-Lim vocoder.

Generation decodes one latent per slice, joins neighbouring slices with linear crossfades over
``overlap`` frames in the log-mel domain and vocodes the whole spectrogram at once, so slice
boundaries have no clicks. Consecutive latents are correlated (AR(1), ``continuity``) so the
music changes gradually rather than jumping at every slice.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import torch

from moodtune.audio.features import LogMel, MelConfig
from moodtune.audio.io import peak_gain
from moodtune.audio.vocoder import GriffinLimVocoder
from moodtune.engines.base import Engine, Request, Result
from moodtune.engines.checkpoint import load_checkpoint
from moodtune.engines.sampling import crossfade_slices, label_tensors, window_latents, window_layout
from moodtune.labels import style_index
from moodtune.models.latent_prior import PRIOR_PREFIX, LatentPrior, prior_from_state, prior_state
from moodtune.models.level import LEVEL_PREFIX, LevelCorrection, level_from_state, level_state
from moodtune.models.spectrogram_vae import SpectrogramVAE, SpectrogramVAEConfig

#: Scaled log-mel (0 = the floor, -top_db) below which the level correction fades out: 0.1 is 8 dB above the floor.
LEVEL_FADE = 0.1


def raise_level(mel: torch.Tensor, shift: torch.Tensor) -> torch.Tensor:
    """Scaled log-mel slices ``mel [N, n_mels, F]`` raised by ``shift [N]`` (scaled units), clipped to [0, 1].

    The shift applies in full to bins at least ``LEVEL_FADE`` above the floor and fades linearly to nothing at
    the floor: the music gets louder, the near-silent background does not turn into audible noise (a uniform
    shift raised every empty bin, and the vocoded output became a hiss under the notes)."""
    fade = (mel / LEVEL_FADE).clamp(0.0, 1.0)
    return (mel + shift[:, None, None] * fade).clamp(0.0, 1.0)


class SpectrogramEngine(Engine):
    """Generate, reconstruct and encode with a trained spectrogram VAE."""

    name = "spectrogram"
    component = "vocoder"

    def __init__(
        self,
        model: SpectrogramVAE,
        mel_config: MelConfig,
        styles: list[str],
        device: str = "cpu",
        overlap: int = 16,
        continuity: float = 0.7,
        config: dict[str, Any] | None = None,
        prior: LatentPrior | None = None,
        level: LevelCorrection | None = None,
    ) -> None:
        self.model = model.to(device).eval()
        self.prior = prior.to(device) if prior is not None else None
        self.level = level.to(device) if level is not None else None
        self.mel_config = mel_config
        self.styles = styles
        self.device = device
        self.overlap = overlap
        self.continuity = continuity
        self.config = config or {}
        self.vocoder = GriffinLimVocoder(mel_config)
        self.logmel = LogMel(mel_config)

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], device: str = "cpu") -> SpectrogramEngine:
        state, config = load_checkpoint(path, engine=cls.name)
        return cls.from_state(state, config, device)

    @classmethod
    def from_state(
        cls, state: dict[str, torch.Tensor], config: dict[str, Any], device: str = "cpu"
    ) -> SpectrogramEngine:
        """Build from exported weights and config (also used by engines that embed this one)."""
        model = SpectrogramVAE(SpectrogramVAEConfig.from_dict(config["model"]))
        model.load_state_dict({k: v for k, v in state.items() if not k.startswith((PRIOR_PREFIX, LEVEL_PREFIX))})
        prior = prior_from_state(state, model.config.latent_dim)
        mel, level = MelConfig(**config["mel"]), level_from_state(state)
        return cls(model, mel, config["styles"], device, config=config, prior=prior, level=level)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Weights to export: the model's, the latent prior's (``prior.``) and the level correction's (``level.``)."""
        return {**self.model.state_dict(), **prior_state(self.prior), **level_state(self.level)}

    def _decode(
        self, z: torch.Tensor, mood: torch.Tensor, style: torch.Tensor, level_mood: torch.Tensor | None = None
    ) -> torch.Tensor:
        """``z [N, latent_dim]`` -> scaled log-mel slices ``[N, n_mels, F]``, raised by the level correction
        for ``level_mood [N, 3]`` (default: the condition ``mood``): see :func:`raise_level`."""
        mel = self.model.decode(z, mood, style)[:, 0]
        if self.level is None:
            return mel
        shift = self.level.gain_db(mood if level_mood is None else level_mood) / self.mel_config.top_db
        return raise_level(mel, shift)

    @property
    def sr(self) -> int:
        """Sample rate of the audio it reads and writes."""
        return self.mel_config.sr

    @property
    def slice_frames(self) -> int:
        return self.model.config.frames

    def style_index(self, style: str | None) -> int:
        """Vocabulary index of ``style`` (None -> unknown)."""
        return style_index(self.styles, style)

    @torch.no_grad()
    def generate_mel(self, request: Request) -> torch.Tensor:
        """Scaled log-mel ``[n_mels, frames]`` covering ``request.seconds``."""
        c, f = self.mel_config, self.slice_frames
        total = c.frames(round(request.seconds * c.sr))
        _, centres = window_layout(total, f, self.overlap, c.sr / c.hop_length)
        z, mood, style = window_latents(
            request, centres, self.model.config.latent_dim, self.prior, self.continuity, self.styles, self.device
        )
        return crossfade_slices(self._decode(z, mood, style), self.overlap)[:, :total]

    def generate(self, request: Request) -> Result:
        self.options(request)
        request = self.with_style(request)
        mel = self.generate_mel(request)
        n_samples = round(request.seconds * self.mel_config.sr)
        audio = self.vocoder(mel, length=n_samples).cpu().numpy().astype(np.float32)
        audio *= peak_gain(audio)
        meta = {"engine": self.name, "seconds": request.seconds, "seed": request.seed, "style": request.style}
        return Result(audio, self.mel_config.sr, mel.cpu().numpy(), meta)

    def _slices_of(self, mel: torch.Tensor) -> tuple[torch.Tensor, int]:
        """``[n_mels, F]`` -> non-overlapping ``[N, 1, n_mels, slice_frames]`` (last one padded) and ``F``."""
        f = self.slice_frames
        frames = mel.shape[1]
        n = max(1, math.ceil(frames / f))
        padded = torch.nn.functional.pad(mel, (0, n * f - frames))
        return padded.reshape(mel.shape[0], n, f).permute(1, 0, 2).unsqueeze(1), frames

    def _mood_tensor(
        self, n: int, valence: float | None, arousal: float | None, style: str | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        return label_tensors(n, valence, arousal, self.style_index(style), self.device)

    def _encode(
        self, mel: torch.Tensor, valence: float | None, arousal: float | None, style: str | None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, int]:
        """``mel [n_mels, F]`` -> posterior means ``[N, latent_dim]`` of its slices, their conditions, and ``F``."""
        slices, frames = self._slices_of(mel.to(self.device))
        mood, styles = self._mood_tensor(len(slices), valence, arousal, style)
        mu, _ = self.model.encode(slices, mood, styles)
        return mu, mood, styles, frames

    def strided_slices(self, mel: torch.Tensor, hop: int) -> torch.Tensor:
        """Slices of ``mel [n_mels, F]`` every ``hop`` frames -> ``[N, 1, n_mels, slice_frames]`` (end zero-padded)."""
        f = self.slice_frames
        n = max(1, math.ceil(max(mel.shape[1] - f, 0) / hop) + 1)
        padded = torch.nn.functional.pad(mel, (0, (n - 1) * hop + f - mel.shape[1]))
        return padded.unfold(1, f, hop).permute(1, 0, 2).unsqueeze(1)

    @torch.no_grad()
    def encode_slices(self, slices: torch.Tensor, mood: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        """Posterior means ``[N, latent_dim]`` of ``slices [N, 1, n_mels, F]`` with ``mood [N, 3]``, ``style [N]``."""
        return self.model.encode(slices.to(self.device), mood.to(self.device), style.to(self.device))[0]

    @torch.no_grad()
    def decode_slices(
        self,
        z: torch.Tensor,
        mood: torch.Tensor,
        style: torch.Tensor,
        level_mood: torch.Tensor | None = None,
        correct_level: bool = True,
    ) -> torch.Tensor:
        """``z [N, latent_dim]`` -> mel slices ``[N, n_mels, F]``; unless ``correct_level`` is off, the level is
        corrected for ``level_mood [N, 3]`` (default: the condition ``mood``)."""
        z, mood, style = z.to(self.device), mood.to(self.device), style.to(self.device)
        if not correct_level:
            return self.model.decode(z, mood, style)[:, 0]
        return self._decode(z, mood, style, None if level_mood is None else level_mood.to(self.device))

    @torch.no_grad()
    def encode(
        self, mel: torch.Tensor, valence: float | None = None, arousal: float | None = None, style: str | None = None
    ) -> torch.Tensor:
        """Posterior means ``[N, latent_dim]`` of the non-overlapping slices of ``mel [n_mels, F]``."""
        return self._encode(mel, valence, arousal, style)[0]

    @torch.no_grad()
    def encode_and_reconstruct(
        self, mel: torch.Tensor, valence: float | None = None, arousal: float | None = None, style: str | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """``(posterior means [N, latent_dim], reconstruction [n_mels, F])`` of ``mel [n_mels, F]``, slice by slice."""
        mu, mood, styles, frames = self._encode(mel, valence, arousal, style)
        out = self.model.decode(mu, mood, styles)[:, 0]  # what the model gives back, level uncorrected
        return mu, out.permute(1, 0, 2).reshape(mel.shape[0], -1)[:, :frames]

    def reconstruct_mel(
        self, mel: torch.Tensor, valence: float | None = None, arousal: float | None = None, style: str | None = None
    ) -> torch.Tensor:
        """Encode (posterior mean) and decode ``mel [n_mels, F]`` slice by slice -> ``[n_mels, F]``."""
        return self.encode_and_reconstruct(mel, valence, arousal, style)[1]

    def reconstruct(self, audio: np.ndarray, **labels: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """``audio [T]`` at the model's rate -> ``(original mel, reconstructed mel, reconstructed audio [T])``."""
        mel = self.logmel(audio)
        rec = self.reconstruct_mel(mel, **labels)
        out = self.vocoder(rec, length=len(audio)).cpu().numpy().astype(np.float32)
        return mel.numpy(), rec.cpu().numpy(), out

    def reconstruct_audio(
        self, audio: np.ndarray, valence: float | None = None, arousal: float | None = None, style: str | None = None
    ) -> np.ndarray:
        """``audio [T]`` -> encode -> decode -> vocode -> ``[T]``."""
        return self.reconstruct(audio, valence=valence, arousal=arousal, style=style)[2]

    def component_roundtrip(self, audio: np.ndarray) -> np.ndarray:
        """``audio [T]`` -> its real log-mel -> the vocoder alone -> ``[T]`` (the bound on reconstruction)."""
        return self.vocoder(self.logmel(audio), length=len(audio)).cpu().numpy().astype(np.float32)
