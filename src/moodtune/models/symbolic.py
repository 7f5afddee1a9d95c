"""The symbolic engine's networks by name: ``lstm`` (:class:`SymbolicLSTM`) or ``transformer``
(:class:`SymbolicTransformer`), both ``tokens [B, T]``, ``mood [B, T, 3]``, ``style [B]`` -> logits
``[B, T, vocab]``. A checkpoint's model config names its ``arch`` (none: the LSTM, as before there was a
choice)."""

from __future__ import annotations

from typing import Any, Protocol

import torch
from torch import nn

from moodtune.models.symbolic_lstm import SymbolicLSTM, SymbolicLSTMConfig
from moodtune.models.symbolic_transformer import KVCache, SymbolicTransformer, SymbolicTransformerConfig

ARCHS = ("lstm", "transformer")
#: Tokens of context each network is trained with unless told otherwise.
DEFAULT_CONTEXT = {"lstm": 40, "transformer": 512}


def symbolic_config(arch: str, size: str, **overrides: Any) -> dict[str, Any]:
    """The model config (with its ``arch``) of a network and size."""
    if arch == "lstm":
        return {"arch": arch, **SymbolicLSTMConfig.preset(size, **overrides).to_dict()}
    if arch == "transformer":
        return {"arch": arch, **SymbolicTransformerConfig.preset(size, **overrides).to_dict()}
    raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")


def symbolic_model(config: dict[str, Any]) -> nn.Module:
    """The network a model config describes."""
    fields = {k: v for k, v in config.items() if k != "arch"}
    arch = config.get("arch", "lstm")
    if arch == "lstm":
        return SymbolicLSTM(SymbolicLSTMConfig(**fields))
    if arch == "transformer":
        return SymbolicTransformer(SymbolicTransformerConfig(**fields))
    raise ValueError(f"unknown architecture {arch!r}; choose one of {', '.join(ARCHS)}")


class Decoder(Protocol):
    """Next-token logits while a piece grows one token at a time."""

    def next_logits(self, ids: list[int], mood: list[list[float]], style: torch.Tensor) -> torch.Tensor:
        """Logits ``[vocab]`` of the token after ``ids`` (the whole piece so far), whose tokens were written
        under ``mood`` (one ``[valence, arousal, known]`` row each); ``style [1]``."""
        ...


class WindowDecoder:
    """Reads the last ``seq_len`` tokens afresh at every step (any network: the LSTM is trained on such windows)."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model
        self.seq_len = int(model.config.seq_len)

    def next_logits(self, ids: list[int], mood: list[list[float]], style: torch.Tensor) -> torch.Tensor:
        device = style.device
        window = torch.tensor([ids[-self.seq_len :]], device=device)
        moods = torch.tensor([mood[-self.seq_len :]], dtype=torch.float32, device=device)
        return self.model(window, moods, style)[0, -1].float().cpu()


class CachedDecoder:
    """Feeds the Transformer only the tokens it has not seen, keeping its keys and values: linear, not quadratic,
    in the piece's length. Past ``seq_len`` tokens the oldest drop out of the cache, so each token sees a window
    of ``seq_len`` as in training."""

    def __init__(self, model: SymbolicTransformer) -> None:
        self.model = model
        self.cache: KVCache | None = None
        self.seen = 0

    def next_logits(self, ids: list[int], mood: list[list[float]], style: torch.Tensor) -> torch.Tensor:
        start = max(self.seen, len(ids) - self.model.config.seq_len)  # a long primer: only its last window
        device = style.device
        new = torch.tensor([ids[start:]], device=device)
        moods = torch.tensor([mood[start:]], dtype=torch.float32, device=device)
        logits, self.cache = self.model.decode(new, moods, style, self.cache)
        self.seen = len(ids)
        return logits[0, -1].float().cpu()


def decoder_for(model: nn.Module) -> Decoder:
    """The fastest exact-enough way to run ``model`` token by token: a key/value cache for the Transformer, a
    sliding window otherwise."""
    return CachedDecoder(model) if isinstance(model, SymbolicTransformer) else WindowDecoder(model)
