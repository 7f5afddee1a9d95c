"""The symbolic engine's networks by name: ``lstm`` (:class:`SymbolicLSTM`) or ``transformer``
(:class:`SymbolicTransformer`), both ``tokens [B, T]``, ``mood [B, T, 3]``, ``style [B]`` -> logits
``[B, T, vocab]``. A checkpoint's model config names its ``arch`` (none: the LSTM, as before there was a
choice)."""

from __future__ import annotations

from typing import Any, Protocol

import torch
from torch import nn

from moodtune.models.symbolic_lstm import LSTMState, SymbolicLSTM, SymbolicLSTMConfig
from moodtune.models.symbolic_transformer import KVCache, SymbolicTransformer, SymbolicTransformerConfig

#: Each network by name, with its config class.
NETWORKS: dict[str, tuple[type[nn.Module], Any]] = {
    "lstm": (SymbolicLSTM, SymbolicLSTMConfig),
    "transformer": (SymbolicTransformer, SymbolicTransformerConfig),
}
ARCHS = tuple(NETWORKS)
#: Tokens of context each network is trained with unless told otherwise.
DEFAULT_CONTEXT = {"lstm": 40, "transformer": 512}


def _network(arch: str) -> tuple[type[nn.Module], Any]:
    if arch not in NETWORKS:
        raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")
    return NETWORKS[arch]


def symbolic_config(arch: str, size: str, **overrides: Any) -> dict[str, Any]:
    """The model config (with its ``arch``) of a network and size."""
    return {"arch": arch, **_network(arch)[1].preset(size, **overrides).to_dict()}


def symbolic_model(config: dict[str, Any]) -> nn.Module:
    """The network a model config describes (no ``arch``: the LSTM)."""
    network, config_class = _network(config.get("arch", "lstm"))
    return network(config_class(**{k: v for k, v in config.items() if k != "arch"}))


class Decoder(Protocol):
    """Next-token logits while a piece grows one token at a time."""

    def next_logits(self, ids: list[int], mood: list[list[float]], style: torch.Tensor) -> torch.Tensor:
        """Log-probabilities ``[vocab]`` of the token after ``ids`` (the whole piece so far), whose tokens were
        written under ``mood`` (one ``[valence, arousal, known]`` row each); ``style [1]``."""
        ...


class _Guided:
    """What both decoders share: with ``guidance`` g other than 1, every step also reads the piece with the mood
    hidden (all zeros, as in training with mood dropout) and returns ``u + g * (c - u)`` of the conditioned
    (c) and unconditioned (u) log-probabilities, which pushes the choice towards the asked mood."""

    def __init__(self, model: nn.Module, guidance: float = 1.0) -> None:
        self.model, self.guidance = model, guidance

    def _batch(
        self, ids: list[int], mood: list[list[float]], style: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``tokens [B, T]``, ``mood [B, T, 3]``, ``style [B]``: B is 2 (conditioned, unconditioned) when guided."""
        tokens = torch.tensor([ids], device=style.device)
        moods = torch.tensor([mood], dtype=torch.float32, device=style.device)
        if self.guidance == 1.0:
            return tokens, moods, style
        return tokens.expand(2, -1), torch.cat([moods, torch.zeros_like(moods)]), style.expand(2)

    def _combine(self, logits: torch.Tensor) -> torch.Tensor:
        """``[B, vocab]`` last-step logits -> ``[vocab]`` log-probabilities (guided when B is 2)."""
        logp = torch.log_softmax(logits.float().cpu(), dim=-1)
        return logp[0] if len(logp) == 1 else logp[1] + self.guidance * (logp[0] - logp[1])


class WindowDecoder(_Guided):
    """Reads the last ``seq_len`` tokens afresh at every step (any network: the LSTM is trained on such windows)."""

    def next_logits(self, ids: list[int], mood: list[list[float]], style: torch.Tensor) -> torch.Tensor:
        n = int(self.model.config.seq_len)
        return self._combine(self.model(*self._batch(ids[-n:], mood[-n:], style))[:, -1])


class CachedDecoder(_Guided):
    """Feeds the Transformer only the tokens it has not seen, keeping its keys and values: linear, not quadratic,
    in the piece's length. Past ``seq_len`` tokens the oldest drop out of the cache, so each token sees a window
    of ``seq_len`` as in training."""

    def __init__(self, model: SymbolicTransformer, guidance: float = 1.0) -> None:
        super().__init__(model, guidance)
        self.cache: KVCache | None = None
        self.seen = 0

    def next_logits(self, ids: list[int], mood: list[list[float]], style: torch.Tensor) -> torch.Tensor:
        start = max(self.seen, len(ids) - self.model.config.seq_len)  # a long primer: only its last window
        logits, self.cache = self.model.decode(*self._batch(ids[start:], mood[start:], style), self.cache)
        self.seen = len(ids)
        return self._combine(logits[:, -1])


class RestartingDecoder(_Guided):
    """Carries the LSTM's state from token to token instead of reading the window afresh. The state starts
    from zero at a window start, as in training, and once the window holds ``seq_len`` tokens it restarts from
    the last ``seq_len // 2``: every prediction reads between ``seq_len // 2`` and ``seq_len`` tokens, like the
    training windows' later positions, for about one LSTM step per token instead of ``seq_len``."""

    def __init__(self, model: SymbolicLSTM, guidance: float = 1.0) -> None:
        super().__init__(model, guidance)
        self.state: LSTMState | None = None
        self.start = self.seen = 0
        self.conditions: dict[tuple[float, ...], torch.Tensor] = {}  # per mood row, the conditioner's output

    def next_logits(self, ids: list[int], mood: list[list[float]], style: torch.Tensor) -> torch.Tensor:
        n, window = len(ids), int(self.model.config.seq_len)
        if self.state is None:  # the first call: a primer's last window
            self.start = self.seen = max(0, n - window)
        elif n - self.start > window:  # the window is full: read its second half afresh
            self.start = self.seen = n - max(1, window // 2)
            self.state = None
        if self.state is not None and n - self.seen == 1 and not self.model.training:  # one token on
            tokens, moods, styles = self._batch(ids[-1:], mood[-1:], style)
            key = (*mood[-1], float(style[0]))
            cond = self.conditions.get(key)
            if cond is None:
                cond = self.conditions[key] = self.model.conditioner(moods[:, 0], styles)
            logits, self.state = self.model.step(tokens[:, 0], cond, self.state)
        else:
            batch = self._batch(ids[self.seen :], mood[self.seen :], style)
            logits, self.state = self.model.decode(*batch, self.state)
            logits = logits[:, -1]
        self.seen = n
        return self._combine(logits)


def decoder_for(model: nn.Module, guidance: float = 1.0) -> Decoder:
    """The fastest exact-enough way to run ``model`` token by token: a key/value cache for the Transformer, a
    carried state for the LSTM, a sliding window otherwise; ``guidance`` as in :class:`_Guided`."""
    if isinstance(model, SymbolicTransformer):
        return CachedDecoder(model, guidance)
    if isinstance(model, SymbolicLSTM):
        return RestartingDecoder(model, guidance)
    return WindowDecoder(model, guidance)
