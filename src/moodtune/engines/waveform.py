"""Waveform engine: a conditional 1-D ResNet VAE on raw audio windows (8000 Hz x 1 s by default).

Generation draws one latent per window from the mood-conditional prior, each near the previous
window's (:data:`CHAIN_REACH`), decodes each window and joins neighbours with a linear crossfade of
``overlap_s`` seconds, so any length can be asked for; the output is cropped to exactly the requested
number of samples.
``vary`` encodes a file window by window, moves each latent by ``amount`` times the spread of the
training latents and decodes again.
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
from moodtune.engines.sampling import join_windows, label_tensors, window_latents, window_layout
from moodtune.errors import MoodtuneError
from moodtune.labels import style_index
from moodtune.models.latent_prior import PRIOR_PREFIX, LatentPrior, prior_from_state, prior_state
from moodtune.models.level import LEVEL_PREFIX, LevelCorrection, level_from_state, level_state
from moodtune.models.waveform_vae import WaveformVAE, WaveformVAEConfig

#: Generation decodes with the asked valence and arousal times this: the decoder, trained for minutes,
#: renders its condition weakly, and extrapolating it makes the asked mood clearer
#: (docs/experiments/audio-mood-control.md). Reconstruction and ``vary`` use the mood as given.
CONDITION_SCALE = 2.0

#: Windows of a piece are drawn one after another near the previous one's latent, this share of the
#: spread of all training latents wide (:func:`window_latents`): 1 s windows drawn independently make
#: every 8 s piece the same average of many items, and pieces of one mood all sound alike.
CHAIN_REACH = 0.25


class WaveformEngine(Engine):
    """Generate, vary and reconstruct audio with a trained waveform VAE."""

    name = "waveform"

    def __init__(
        self,
        model: WaveformVAE,
        styles: list[str],
        prior: LatentPrior | None = None,
        device: str = "cpu",
        level: LevelCorrection | None = None,
        condition_scale: float = CONDITION_SCALE,
        overlap_s: float = 0.5,
        continuity: float = 0.7,
        config: dict[str, Any] | None = None,
        chain_reach: float | None = CHAIN_REACH,
    ) -> None:
        self.model = model.to(device).eval()
        self.prior = prior.to(device) if prior is not None else None
        self.level = level.to(device) if level is not None else None
        self.condition_scale = condition_scale
        self.styles = styles
        self.device = device
        self.continuity = continuity
        self.chain_reach = chain_reach
        self.config = config or {}
        self.window = model.config.samples
        self.overlap = min(round(overlap_s * self.sr), self.window // 4)

    @property
    def sr(self) -> int:
        """The model's sample rate."""
        return self.model.config.sr

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], device: str = "cpu") -> WaveformEngine:
        state, config = load_checkpoint(path, engine=cls.name)
        model = WaveformVAE(WaveformVAEConfig.from_dict(config["model"]))
        extras = (PRIOR_PREFIX, LEVEL_PREFIX)
        model.load_state_dict({k: v for k, v in state.items() if not k.startswith(extras)})
        prior = prior_from_state(state, model.config.latent_dim)
        return cls(model, config["styles"], prior, device, level=level_from_state(state), config=config)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """Weights to export: the model's, the latent prior's (``prior.``) and the level correction's (``level.``)."""
        return {**self.model.state_dict(), **prior_state(self.prior), **level_state(self.level)}

    @torch.no_grad()
    def decode_windows(
        self,
        z: torch.Tensor,
        mood: torch.Tensor,
        style: torch.Tensor,
        length: int,
        level_mood: torch.Tensor | None = None,
    ) -> np.ndarray:
        """Latents ``[N, latent_dim]`` -> windows crossfaded into audio ``[length]`` (float32, not normalised).

        With ``level_mood [N, 3]`` (generation) each window is raised by the level correction for that mood;
        reconstructions are left as the model decodes them.
        """
        windows = torch.cat(
            [self.model.decode(z[i : i + 4], mood[i : i + 4], style[i : i + 4]) for i in range(0, len(z), 4)]
        )
        if level_mood is not None and self.level is not None:
            windows = windows * self.level.amplitude(level_mood)[:, None, None]
        return join_windows(windows, self.overlap, length)

    def generate(self, request: Request) -> Result:
        self.options(request)
        request = self.with_style(request)
        length = round(request.seconds * self.sr)
        _, centres = window_layout(length, self.window, self.overlap, self.sr)
        z, mood, style = window_latents(
            request,
            centres,
            self.model.config.latent_dim,
            self.prior,
            self.continuity,
            self.styles,
            self.device,
            self.chain_reach,
        )
        emphasised = torch.cat([mood[:, :2] * self.condition_scale, mood[:, 2:]], dim=1)
        audio = self.decode_windows(z, emphasised, style, length, level_mood=mood)
        audio *= peak_gain(audio)
        meta = {"engine": self.name, "seconds": request.seconds, "seed": request.seed, "style": request.style}
        return Result(audio, self.sr, None, meta)

    def _windows_of(self, audio: np.ndarray) -> torch.Tensor:
        """``audio [T]`` -> consecutive windows ``[N, 1, window]`` (hop ``window - overlap``, end zero-padded)."""
        hop = self.window - self.overlap
        n = max(1, math.ceil(max(len(audio) - self.window, 0) / hop) + 1)
        x = torch.from_numpy(np.pad(audio, (0, (n - 1) * hop + self.window - len(audio))).astype(np.float32))
        return x.unfold(0, self.window, hop).unsqueeze(1).to(self.device)

    @torch.no_grad()
    def encode(
        self, audio: np.ndarray, valence: float | None = None, arousal: float | None = None, style: str | None = None
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        """``audio [T]`` -> ``(mu, logvar)`` ``[N, latent_dim]`` of its windows, and their ``mood``, ``style``."""
        windows = self._windows_of(audio)
        mood, styles = label_tensors(len(windows), valence, arousal, style_index(self.styles, style), self.device)
        mu, logvar = self.model.encode(windows, mood, styles)
        return mu, logvar, mood, styles

    def reconstruct_audio(
        self, audio: np.ndarray, valence: float | None = None, arousal: float | None = None, style: str | None = None
    ) -> np.ndarray:
        """Encode (posterior means) and decode ``audio [T]`` at the model's rate -> ``[T]``."""
        mu, _, mood, styles = self.encode(audio, valence, arousal, style)
        return self.decode_windows(mu, mood, styles, len(audio))

    def vary(
        self,
        audio: np.ndarray,
        amount: float = 0.5,
        seed: int = 0,
        valence: float | None = None,
        arousal: float | None = None,
        style: str | None = None,
    ) -> np.ndarray:
        """Encode -> perturb -> decode: each window's latent moves by ``amount`` x the training latents' spread.

        ``amount = 0`` reconstructs; 1 moves as far as typical training clips lie from their mood's mean.
        """
        if not 0.0 <= amount <= 10.0:
            raise MoodtuneError(f"--amount must lie in [0, 10], got {amount}")
        mu, _, mood, styles = self.encode(audio, valence, arousal, style)
        eps = torch.randn(mu.shape, generator=torch.Generator().manual_seed(seed)).to(self.device)
        step = self.prior.spread(eps) if self.prior is not None else eps
        out = self.decode_windows(mu + amount * step, mood, styles, len(audio))
        return out * peak_gain(out)
