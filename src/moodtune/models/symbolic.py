"""The symbolic engine's networks by name: ``lstm`` (:class:`SymbolicLSTM`) or ``transformer``
(:class:`SymbolicTransformer`), both ``tokens [B, T]``, ``mood [B, T, 3]``, ``style [B]`` -> logits
``[B, T, vocab]``. A checkpoint's model config names its ``arch`` (none: the LSTM, as before there was a
choice)."""

from __future__ import annotations

from typing import Any

from torch import nn

from moodtune.models.symbolic_lstm import SymbolicLSTM, SymbolicLSTMConfig
from moodtune.models.symbolic_transformer import SymbolicTransformer, SymbolicTransformerConfig

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
