"""The sequence engine: an LSTM rolls out spectrogram-VAE latents slice by slice; the VAE decodes them.

Generation streams: each step predicts one latent, decodes one mel slice, vocodes it and crossfades it
into the audio, so memory stays bounded whatever the length.

When the spectrogram VAE carries an :class:`ExemplarPrior` (``anchor``), each prediction is a proposal:
the latent used is a training latent of the mood asked at that moment, drawn near the proposal
(``reach`` sets how near). The LSTM keeps the music continuous; the anchor keeps it on latents the decoder
renders sharply, with the asked mood, so a long roll-out neither drifts into silence nor loops.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch

from moodtune.audio.io import peak_gain
from moodtune.engines.base import Engine, Request, Result
from moodtune.engines.checkpoint import load_checkpoint
from moodtune.engines.sampling import crossfade_slices
from moodtune.engines.spectrogram import SpectrogramEngine
from moodtune.errors import MoodtuneError
from moodtune.labels import style_index
from moodtune.models.latent_prior import ExemplarPrior
from moodtune.models.sequence import LatentSequenceModel, SequenceModelConfig


def _fade(n: int) -> np.ndarray:
    return ((np.arange(n) + 0.5) / n).astype(np.float32)


class SequenceEngine(Engine):
    """Generate and continue music with a trained latent sequence model over a spectrogram VAE."""

    name = "sequence"

    def __init__(
        self,
        model: LatentSequenceModel,
        vae: SpectrogramEngine,
        mean: torch.Tensor,
        std: torch.Tensor,
        styles: list[str],
        device: str = "cpu",
        anchor: bool = True,
        reach: float = 2.0,
    ) -> None:
        self.model = model.to(device).eval()
        self.anchor, self.reach = anchor, reach
        self.vae = vae
        self.mean, self.std = mean.to(device), std.to(device)
        self.styles = styles
        self.device = device

    @classmethod
    def from_checkpoint(cls, path: str | os.PathLike[str], device: str = "cpu") -> SequenceEngine:
        state, config = load_checkpoint(path, engine=cls.name)
        vae = SpectrogramEngine.from_state(
            {k.removeprefix("vae."): v for k, v in state.items() if k.startswith("vae.")}, config["vae"], device
        )
        model = LatentSequenceModel(SequenceModelConfig(**config["model"]))
        model.load_state_dict({k.removeprefix("seq."): v for k, v in state.items() if k.startswith("seq.")})
        return cls(model, vae, state["norm.mean"], state["norm.std"], config["styles"], device)

    @property
    def sr(self) -> int:
        """The spectrogram VAE's sample rate."""
        return self.vae.sr

    @property
    def hop_frames(self) -> int:
        """Mel frames between consecutive steps."""
        return self.vae.slice_frames - self.vae.overlap

    def step_seconds(self) -> float:
        """Seconds of audio each step adds."""
        return self.hop_frames * self.vae.mel_config.hop_length / self.sr

    def _mood(self, request: Request, t: float) -> torch.Tensor:
        va = request.mood_at(np.array([t]))[0]
        return torch.tensor([[va[0], va[1], 1.0]], dtype=torch.float32, device=self.device)

    @torch.no_grad()
    def latents(
        self, request: Request, context: torch.Tensor | None = None
    ) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Yield ``(latent [1, D], mood [1, 3])`` per step, forever; ``context [N, D]`` (standardised) warms the
        LSTM first and the roll-out continues from its last latent."""
        style = torch.tensor([style_index(self.styles, request.style)], device=self.device)
        gen = torch.Generator().manual_seed(request.seed)
        noise_dim = self.model.config.noise_dim
        step_s = self.step_seconds()

        def noise() -> torch.Tensor:
            return (torch.randn(1, noise_dim, generator=gen) * request.temperature).to(self.device)

        state = None
        if context is not None and len(context):
            mood0 = self._mood(request, 0.0)
            for i in range(len(context) - 1):
                _, state = self.model.step(context[i : i + 1], mood0, style, noise(), state)
            z = context[-1:]
        else:
            mood0 = self._mood(request, self.vae.slice_frames / 2 * self.vae.mel_config.hop_length / self.sr)
            eps = torch.randn(1, self.vae.model.config.latent_dim, generator=gen).to(self.device)
            raw = self.vae.prior.sample(mood0, eps, request.temperature) if self.vae.prior is not None else eps
            z = (raw - self.mean) / self.std
            yield z, mood0
        t = 0
        while True:
            t += 1
            mood = self._mood(request, (t + 0.5) * step_s)
            z, state = self.model.step(z, mood, style, noise(), state)
            if self.anchor and isinstance(self.vae.prior, ExemplarPrior):
                eps = torch.randn(1, z.shape[1], generator=gen).to(self.device)
                raw = self.vae.prior.sample(mood, eps, request.temperature, z * self.std + self.mean, self.reach)
                z = (raw - self.mean) / self.std
            yield z, mood

    def stream(
        self, request: Request, context: torch.Tensor | None = None
    ) -> Iterator[tuple[np.ndarray, torch.Tensor]]:
        """Yield ``(audio chunk [hop samples], mel slice [n_mels, F])`` until ``request.seconds`` is covered.

        Each slice is vocoded on its own and crossfaded with the previous one over the overlap.
        """
        request = self.with_style(request)
        total = round(request.seconds * self.sr)
        hop = self.hop_frames * self.vae.mel_config.hop_length
        length = (self.vae.slice_frames - 1) * self.vae.mel_config.hop_length  # a slice's frames, centred STFT
        overlap = length - hop
        fade = _fade(overlap)
        style = torch.tensor([style_index(self.styles, request.style)], device=self.device)
        tail: np.ndarray | None = None
        written = 0
        for z, mood in self.latents(request, context):
            mel = self.vae.decode_slices(z * self.std + self.mean, mood, style)[0]
            audio = self.vae.vocoder(mel, length=length).cpu().numpy().astype(np.float32)
            if tail is not None:
                audio[:overlap] = audio[:overlap] * fade + tail * fade[::-1]
            chunk, tail = audio[:hop], audio[hop:]
            chunk = chunk[: total - written]
            written += len(chunk)
            yield chunk, mel
            if written >= total:
                return

    def generate(self, request: Request) -> Result:
        self.options(request)
        chunks, mels = zip(*self.stream(request), strict=True)
        audio = np.concatenate(chunks)
        mel = crossfade_slices(torch.stack(mels), self.vae.overlap).cpu().numpy()
        audio *= peak_gain(audio)
        meta: dict[str, Any] = {"engine": self.name, "seconds": request.seconds, "seed": request.seed}
        return Result(audio, self.sr, mel, meta)

    @torch.no_grad()
    def context_latents(self, audio: np.ndarray, request: Request) -> torch.Tensor:
        """Standardised latents ``[N, D]`` of ``audio`` (at the engine's rate) in the generation geometry."""
        slices = self.vae.strided_slices(self.vae.logmel(audio), self.hop_frames)
        mood = self._mood(request, 0.0).cpu().repeat(len(slices), 1)
        style = torch.full((len(slices),), style_index(self.styles, request.style), dtype=torch.long)
        return (self.vae.encode_slices(slices, mood, style) - self.mean) / self.std

    @torch.no_grad()
    def predict_held_out(
        self, audio: np.ndarray, context_steps: int, request: Request
    ) -> tuple[np.ndarray, np.ndarray, float]:
        """Give the first ``context_steps`` latents of ``audio``, predict the rest free-running.

        Returns ``(original log-mel [n_mels, F], predicted log-mel [n_mels, F], seconds given as context)``:
        the prediction shows the context as the VAE reconstructs it, then the model's own continuation.
        """
        latents = self.context_latents(audio, request)
        if len(latents) <= context_steps:
            raise MoodtuneError(f"the clip has {len(latents)} steps; it needs more than {context_steps} to predict any")
        steps = self.latents(request, latents[:context_steps])
        predicted = [next(steps)[0] for _ in range(len(latents) - context_steps)]
        z = torch.cat([latents[:context_steps], *predicted]) * self.std + self.mean
        style = torch.full((len(z),), style_index(self.styles, request.style), dtype=torch.long)
        mood = torch.tensor(np.c_[request.mood_at(np.arange(len(z)) * self.step_seconds()), np.ones(len(z))])
        mel = crossfade_slices(self.vae.decode_slices(z, mood.float(), style), self.vae.overlap).cpu().numpy()
        original = self.vae.logmel(audio).numpy()
        frames = min(mel.shape[1], original.shape[1])
        return original[:, :frames], mel[:, :frames], context_steps * self.step_seconds()

    def continue_audio(self, audio: np.ndarray, request: Request, crossfade_s: float = 0.5) -> Result:
        """``audio [T]`` followed by ``request.seconds`` of continuation, crossfaded over ``crossfade_s``."""
        context = self.context_latents(audio, request)
        fade_n = min(round(crossfade_s * self.sr), len(audio))
        more = dataclasses.replace(request, seconds=request.seconds + fade_n / self.sr)
        chunks = [c for c, _ in self.stream(more, context)]
        cont = np.concatenate(chunks)
        # match the continuation's level to the input's end, so the seam is not a jump in loudness
        ref = float(np.sqrt(np.mean(audio[-self.sr :] ** 2)) + 1e-8)
        cont = cont * min(4.0, ref / float(np.sqrt(np.mean(cont[: self.sr] ** 2)) + 1e-8))
        fade = _fade(fade_n)
        out = np.concatenate(
            [
                audio[: len(audio) - fade_n],
                audio[len(audio) - fade_n :] * fade[::-1] + cont[:fade_n] * fade,
                cont[fade_n:],
            ]
        )
        out[len(audio) :] *= peak_gain(out)  # the input stays as it was
        return Result(
            out.astype(np.float32), self.sr, None, {"engine": self.name, "input_seconds": len(audio) / self.sr}
        )
