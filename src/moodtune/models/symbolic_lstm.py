"""An LSTM over note tokens, conditioned on mood and style at every step.

Token embedding ``[B, T, E]`` + condition ``[B, T, C]`` -> LSTM (hidden1, return sequences) ->
dropout -> LSTM (hidden2) -> dense (dense, ReLU) -> dropout -> logits ``[B, T, vocab]``.
The ``base`` size is LSTM 512 -> dropout 0.1 -> LSTM 256 -> dense 256 -> dropout 0.1 over windows of
40 tokens.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from moodtune.models.blocks import size_preset
from moodtune.models.conditioning import MoodStyleConditioner

#: Both layers' ``(h, c)``, each ``[1, B, hidden]``.
LSTMState = tuple[tuple[torch.Tensor, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]


@dataclass(frozen=True)
class SymbolicLSTMConfig:
    """Sizes of the symbolic LSTM."""

    vocab_size: int
    n_styles: int = 1
    embed_dim: int = 64
    hidden1: int = 512
    hidden2: int = 256
    dense: int = 256
    dropout: float = 0.1
    mood_dim: int = 16
    style_dim: int = 8
    seq_len: int = 40

    @classmethod
    def preset(cls, name: str, **overrides: object) -> SymbolicLSTMConfig:
        """``debug`` (tests), ``small`` (the demo, minutes on a CPU) or ``base`` (LSTM 512 / 256, dense 256)."""
        presets: dict[str, dict[str, object]] = {
            "debug": {"embed_dim": 16, "hidden1": 32, "hidden2": 32, "dense": 32, "mood_dim": 4, "style_dim": 2},
            "small": {"embed_dim": 48, "hidden1": 192, "hidden2": 128, "dense": 128},
            "base": {},
        }
        return cls(**{**size_preset(presets, name), **overrides})  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


class SymbolicLSTM(nn.Module):
    """Next-token model: ``tokens [B, T]``, ``mood [B, T, 3]``, ``style [B]`` -> logits ``[B, T, vocab]``."""

    def __init__(self, config: SymbolicLSTMConfig) -> None:
        super().__init__()
        c = config
        self.config = c
        self.embed = nn.Embedding(c.vocab_size, c.embed_dim)
        self.conditioner = MoodStyleConditioner(c.n_styles, c.mood_dim, c.style_dim)
        self.lstm1 = nn.LSTM(c.embed_dim + self.conditioner.dim, c.hidden1, batch_first=True)
        self.lstm2 = nn.LSTM(c.hidden1, c.hidden2, batch_first=True)
        self.drop = nn.Dropout(c.dropout)
        self.dense = nn.Sequential(nn.Linear(c.hidden2, c.dense), nn.ReLU(), nn.Dropout(c.dropout))
        self.out = nn.Linear(c.dense, c.vocab_size)

    def forward(self, tokens: torch.Tensor, mood: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
        return self.decode(tokens, mood, style)[0]

    def decode(
        self, tokens: torch.Tensor, mood: torch.Tensor, style: torch.Tensor, state: LSTMState | None = None
    ) -> tuple[torch.Tensor, LSTMState]:
        """Logits ``[B, T, vocab]`` of ``tokens [B, T]`` (mood ``[B, T, 3]``) read on from ``state`` (None: from the
        start of a window), and the state after them: both layers' ``(h, c)``."""
        b, t = tokens.shape
        cond = self.conditioner(mood.reshape(b * t, 3), style.repeat_interleave(t)).reshape(b, t, -1)
        x = torch.cat([self.embed(tokens), cond], dim=-1)
        if t == 1 and state is not None and not self.training:  # one step on: the cells alone, far cheaper
            s1 = _cell(self.lstm1, x[:, 0], state[0])
            s2 = _cell(self.lstm2, s1[0][0], state[1])
            h = s2[0].transpose(0, 1)
        else:
            h, s1 = self.lstm1(x, state[0] if state else None)
            h, s2 = self.lstm2(self.drop(h), state[1] if state else None)
        return self.out(self.dense(h)), (s1, s2)

    def step(self, token: torch.Tensor, cond: torch.Tensor, state: LSTMState) -> tuple[torch.Tensor, LSTMState]:
        """One token on, in eval mode: ``token [B]`` ids and ``cond [B, C]`` (the :attr:`conditioner`'s output for
        the token's mood and style, which a caller may keep while they hold) from ``state`` -> logits
        ``[B, vocab]`` and the next state. The same numbers as :meth:`decode` on one token, without the module
        calls and the conditioner around them."""
        x = torch.cat([nn.functional.embedding(token, self.embed.weight), cond], dim=-1)
        s1 = _cell(self.lstm1, x, state[0])
        s2 = _cell(self.lstm2, s1[0][0], state[1])
        dense = self.dense[0]
        h = nn.functional.relu(nn.functional.linear(s2[0][0], dense.weight, dense.bias))
        return nn.functional.linear(h, self.out.weight, self.out.bias), (s1, s2)


def _cell(lstm: nn.LSTM, x: torch.Tensor, state: tuple[torch.Tensor, torch.Tensor]) -> tuple[torch.Tensor, ...]:
    """One step of a one-layer ``lstm``: ``x [B, in]`` and ``(h, c)`` ``[1, B, hidden]`` -> the next ``(h, c)``, the
    same numbers as ``lstm`` on a sequence of one, without its sequence machinery."""
    h, c = torch.lstm_cell(
        x, (state[0][0], state[1][0]), lstm.weight_ih_l0, lstm.weight_hh_l0, lstm.bias_ih_l0, lstm.bias_hh_l0
    )
    return h.unsqueeze(0), c.unsqueeze(0)
