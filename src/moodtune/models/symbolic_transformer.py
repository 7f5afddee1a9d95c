"""A decoder-only Transformer over note tokens, conditioned on mood and style at every step.

Token embedding ``[B, T, D]`` + a projection of the condition ``[B, T, C]`` -> ``n_layers`` pre-norm blocks
(causal self-attention with rotary positions, then a GELU feed-forward) -> layer norm -> logits
``[B, T, vocab]``. Rotary positions are relative, so a window slid along a long piece reads the same way
wherever it starts.

Generation feeds one token at a time through :meth:`SymbolicTransformer.decode`, which keeps every layer's
keys and values (a :class:`KVCache`) of the last ``seq_len - 1`` tokens instead of recomputing the window.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from moodtune.models.blocks import size_preset
from moodtune.models.conditioning import MoodStyleConditioner


@dataclass(frozen=True)
class SymbolicTransformerConfig:
    """Sizes of the symbolic Transformer."""

    vocab_size: int
    n_styles: int = 1
    d_model: int = 256
    n_layers: int = 6
    n_heads: int = 8
    ff: int = 1024
    dropout: float = 0.1
    mood_dim: int = 16
    style_dim: int = 8
    seq_len: int = 512

    @classmethod
    def preset(cls, name: str, **overrides: object) -> SymbolicTransformerConfig:
        """``debug`` (tests), ``small`` (minutes on a CPU) or ``base`` (6 layers of 256)."""
        presets: dict[str, dict[str, object]] = {
            "debug": {"d_model": 32, "n_layers": 2, "n_heads": 2, "ff": 64, "mood_dim": 4, "style_dim": 2},
            "small": {"d_model": 128, "n_layers": 4, "n_heads": 4, "ff": 512},
            "base": {},
        }
        return cls(**{**size_preset(presets, name), **overrides})  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def rotary(x: torch.Tensor, start: int = 0) -> torch.Tensor:
    """Rotate pairs of channels of ``x [B, H, T, d]`` by angles growing with the position (RoPE); the first
    of the ``T`` tokens sits at position ``start``."""
    t, d = x.shape[-2], x.shape[-1]
    freqs = 1.0 / (10000.0 ** (torch.arange(0, d, 2, device=x.device, dtype=torch.float32) / d))  # [d/2]
    positions = torch.arange(start, start + t, device=x.device, dtype=torch.float32)
    angles = positions[:, None] * freqs  # [T, d/2]
    cos, sin = angles.cos().to(x.dtype), angles.sin().to(x.dtype)
    even, odd = x[..., 0::2], x[..., 1::2]
    return torch.stack([even * cos - odd * sin, even * sin + odd * cos], dim=-1).flatten(-2)


class Block(nn.Module):
    """Pre-norm causal self-attention (rotary positions) and feed-forward, each with a residual."""

    def __init__(self, d_model: int, n_heads: int, ff: int, dropout: float) -> None:
        super().__init__()
        self.n_heads, self.dropout = n_heads, dropout
        self.norm1, self.norm2 = nn.LayerNorm(d_model), nn.LayerNorm(d_model)
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        self.ff = nn.Sequential(nn.Linear(d_model, ff), nn.GELU(), nn.Linear(ff, d_model), nn.Dropout(dropout))

    def forward(
        self, h: torch.Tensor, past: tuple[torch.Tensor, torch.Tensor] | None = None, start: int = 0
    ) -> tuple[torch.Tensor, tuple[torch.Tensor, torch.Tensor]]:
        """``h [B, T, D]`` of tokens at positions ``start..`` that follow the ``past`` keys and values
        ``[B, H, P, D/H]`` -> ``([B, T, D], keys and values [B, H, P + T, D/H])``."""
        b, t, d = h.shape
        q, k, v = self.qkv(self.norm1(h)).view(b, t, 3, self.n_heads, d // self.n_heads).permute(2, 0, 3, 1, 4)
        q, k = rotary(q, start), rotary(k, start)
        mask = None
        if past is not None:
            k, v = torch.cat([past[0], k], dim=2), torch.cat([past[1], v], dim=2)
            n_past = past[0].shape[2]  # query i may see every past key and the new keys up to itself
            mask = (
                torch.arange(n_past + t, device=h.device)[None, :] <= n_past + torch.arange(t, device=h.device)[:, None]
            )
        p = self.dropout if self.training else 0.0
        att = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=mask is None, dropout_p=p)
        h = h + F.dropout(self.proj(att.transpose(1, 2).reshape(b, t, d)), p, self.training)  # att: [B, H, T, D/H]
        return h + self.ff(self.norm2(h)), (k, v)


@dataclass
class KVCache:
    """Keys and values ``[B, H, P, D/H]`` of every layer for the last ``P`` tokens, and the position of the next."""

    layers: list[tuple[torch.Tensor, torch.Tensor]]
    position: int

    def __len__(self) -> int:
        return self.layers[0][0].shape[2] if self.layers else 0


class SymbolicTransformer(nn.Module):
    """Next-token model: ``tokens [B, T]``, ``mood [B, T, 3]``, ``style [B]`` -> logits ``[B, T, vocab]``."""

    def __init__(self, config: SymbolicTransformerConfig) -> None:
        super().__init__()
        c = config
        if c.d_model % c.n_heads or (c.d_model // c.n_heads) % 2:
            raise ValueError(f"d_model {c.d_model} must split into {c.n_heads} heads of an even size")
        self.config = c
        self.embed = nn.Embedding(c.vocab_size, c.d_model)
        self.conditioner = MoodStyleConditioner(c.n_styles, c.mood_dim, c.style_dim)
        self.condition = nn.Linear(self.conditioner.dim, c.d_model)
        self.blocks = nn.ModuleList(Block(c.d_model, c.n_heads, c.ff, c.dropout) for _ in range(c.n_layers))
        self.norm = nn.LayerNorm(c.d_model)
        self.out = nn.Linear(c.d_model, c.vocab_size)

    def forward(self, tokens: torch.Tensor, mood: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.decode(tokens, mood, style)[0]

    def decode(
        self, tokens: torch.Tensor, mood: torch.Tensor, style: torch.Tensor, cache: KVCache | None = None
    ) -> tuple[torch.Tensor, KVCache]:
        """Logits ``[B, T, vocab]`` of ``tokens [B, T]`` (mood ``[B, T, 3]``) that follow the ``cache``'s tokens,
        and the cache extended by them, cut to the last ``seq_len - 1`` tokens (the window the next token sees)."""
        b, t = tokens.shape
        cond = self.conditioner(mood.reshape(b * t, 3), style.repeat_interleave(t)).reshape(b, t, -1)
        h = self.embed(tokens) + self.condition(cond)  # the condition at every step
        start = cache.position if cache is not None else 0
        keep = self.config.seq_len - 1
        layers = []
        for i, block in enumerate(self.blocks):
            h, (k, v) = block(h, cache.layers[i] if cache is not None else None, start)
            cut = max(0, k.shape[2] - keep)
            layers.append((k[:, :, cut:], v[:, :, cut:]))
        return self.out(self.norm(h)), KVCache(layers, start + t)
