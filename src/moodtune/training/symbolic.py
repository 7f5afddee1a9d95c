"""Train the symbolic engine: ``moodtune train symbolic``.

A mood-conditioned LSTM or Transformer learns the next note token over windows of ``seq_len`` tokens of every MIDI
file the prepared dataset kept (cross-entropy, Adamax); afterwards its validation and test perplexity.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader

from moodtune.data.token_datasets import Piece, TokenWindowDataset, load_pieces
from moodtune.errors import MoodtuneError
from moodtune.midi.tokens import PAD, Tokenizer
from moodtune.models.symbolic import ARCHS, DEFAULT_CONTEXT, symbolic_config
from moodtune.training.config import TrainConfig, option
from moodtune.training.recipe import TRAIN_CONFIG_FILE, Finished, Recipe, Setup
from moodtune.training.symbolic_module import SymbolicModule


@dataclass(kw_only=True)
class SymbolicTrainConfig(TrainConfig):
    """Everything a symbolic training run depends on (saved in the run)."""

    engine: ClassVar[str] = "symbolic"

    tokens: str = option(
        "timed",
        help="token format: timed (50 ms time shifts), beats (bars and sixteenth-note positions after the "
        "piece's tempo and meter) or notes (one token per onset, the classic format)",
        choices=("timed", "beats", "notes"),
    )
    arch: str = option(
        "lstm", help="network: lstm, or transformer (decoder-only, rotary positions, long context)", choices=ARCHS
    )
    seq_len: int | None = option(
        None, help="tokens of context (default: 40 for the LSTM, 512 for the Transformer)", minimum=2
    )
    transpose: bool = option(True, help="move every piece to a C tonic, so mode is learnable")
    mood_dropout: float = option(
        0.0,
        help="share of training windows whose mood is hidden, so that generation can steer towards the asked "
        "mood with --guidance (0: off)",
        minimum=0.0,
        maximum=0.9,
    )

    @property
    def context(self) -> int:
        """Tokens of context: ``seq_len``, else the network's default."""
        return self.seq_len or DEFAULT_CONTEXT[self.arch]

    mood_changes: int = option(
        0,
        help="pieces per training score joined from its renderings in different moods, changing mood every "
        "4-12 bars, so the model learns to follow a mood trajectory (beats tokens; 0: off)",
        minimum=0,
        maximum=16,
    )

    batch_size: int = option(64, help="examples per batch", positive=True)
    lr: float = option(2e-3, help="learning rate (Adamax)", positive=True)


def _split(pieces: list[Piece], name: str) -> list[Piece]:
    return [p for p in pieces if p.split == name]


def check_resumable(out: Path, tokenizer: Tokenizer) -> None:
    """Refuse to resume a run whose saved tokenizer differs from the one its data gives now (a run started by an
    older version with another token layout, or data prepared again): its weights index other tokens."""
    saved = json.loads((out / TRAIN_CONFIG_FILE).read_text()).get("tokenizer")
    now = json.loads(json.dumps(tokenizer.to_dict()))
    if saved is None or saved == now:
        return
    changed = sorted(k for k in {*saved, *now} if saved.get(k) != now.get(k))
    raise MoodtuneError(
        f"{out}: this run's {saved.get('kind')} tokens differ from those its data gives now (in "
        f"{', '.join(changed)}): it was started by another version of moodtune or on other data, and its weights "
        "cannot continue with these tokens; start a new run with another --out"
    )


class SymbolicRecipe(Recipe[SymbolicTrainConfig]):
    """Hooks of the symbolic family."""

    plot_keys = ("loss",)

    def setup(self, cfg: SymbolicTrainConfig, progress: bool) -> Setup:
        tokenizer, pieces, styles = load_pieces(cfg.data, cfg.tokens, cfg.transpose, cfg.mood_changes, cfg.seed)
        if cfg.resume:
            check_resumable(Path(cfg.out), tokenizer)
        train_pieces = _split(pieces, "train") or pieces
        val_pieces = _split(pieces, "val") or train_pieces
        seq_len = cfg.context
        model_config = symbolic_config(
            cfg.arch, cfg.size, vocab_size=len(tokenizer.vocabulary), n_styles=len(styles), seq_len=seq_len
        )
        pad = tokenizer.index[PAD]
        return Setup(
            module=SymbolicModule(model_config, cfg, pad_id=pad, mood_dropout=cfg.mood_dropout),
            train=TokenWindowDataset(train_pieces, tokenizer, seq_len),
            val=TokenWindowDataset(val_pieces, tokenizer, seq_len, hop=seq_len),
            run_config={"model": model_config, "tokenizer": tokenizer.to_dict(), "styles": styles},
            drop_last=False,
            context={"pad": pad, "tokenizer": tokenizer, "pieces": pieces, "train_pieces": train_pieces},
        )

    def finish(self, cfg: SymbolicTrainConfig, setup: Setup, model: nn.Module, out: Path) -> Finished:
        ctx = setup.context
        metrics = {
            "train_tokens": sum(len(p.tokens) for p in ctx["train_pieces"]),
            "vocabulary": len(ctx["tokenizer"].vocabulary),
            "val_perplexity": round(heldout_perplexity(model, setup.val, ctx["pad"]), 3),
        }
        test = _split(ctx["pieces"], "test")
        if test:
            test_ds = TokenWindowDataset(test, ctx["tokenizer"], cfg.context, hop=cfg.context)
            metrics["test_perplexity"] = round(heldout_perplexity(model, test_ds, ctx["pad"]), 3)
        return Finished(model.state_dict(), metrics)


@torch.no_grad()
def heldout_perplexity(model: nn.Module, dataset: TokenWindowDataset, pad_id: int) -> float:
    """Perplexity (exp of the mean next-token cross-entropy, padding excluded) over a dataset."""
    total, count = 0.0, 0
    for batch in DataLoader(dataset, batch_size=128):
        tokens = batch["tokens"]
        logits = model(tokens[:, :-1], batch["mood"][:, :-1], batch["style"])
        target = tokens[:, 1:].reshape(-1)
        loss = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target, ignore_index=pad_id, reduction="sum")
        total += float(loss)
        count += int((target != pad_id).sum())
    return math.exp(total / max(count, 1))
