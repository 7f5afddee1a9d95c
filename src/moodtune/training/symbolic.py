"""Train the symbolic engine: ``moodtune train symbolic``."""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import lightning as L
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from moodtune.data.token_datasets import Piece, TokenWindowDataset, load_pieces
from moodtune.engines.checkpoint import save_checkpoint
from moodtune.errors import MoodtuneError
from moodtune.fsutil import write_json_atomic
from moodtune.midi.tokens import PAD
from moodtune.models.symbolic_lstm import SymbolicLSTM, SymbolicLSTMConfig
from moodtune.training.symbolic_module import SymbolicLSTMModule
from moodtune.training.trainer import check_run_folder, fit, loaders, resumed_config, write_training_plots


@dataclass
class SymbolicTrainConfig:
    """Everything a symbolic training run depends on (saved in the run)."""

    data: str
    out: str
    tokens: str = "timed"
    epochs: int = 30
    max_minutes: float | None = None
    size: str = "small"
    seq_len: int = 40
    transpose: bool = True
    batch_size: int = 64
    lr: float = 2e-3
    accelerator: str = "auto"
    devices: int = 1
    seed: int = 0


def _split(pieces: list[Piece], name: str) -> list[Piece]:
    return [p for p in pieces if p.split == name]


def train_symbolic(cfg: SymbolicTrainConfig, resume: bool = False, progress: bool = True) -> dict[str, Any]:
    """Train, export ``model.safetensors`` + ``config.json`` into ``cfg.out``; returns the results."""
    t0 = time.perf_counter()
    out = Path(cfg.out)
    resume_from = check_run_folder(out, resume)
    cfg = resumed_config(out, cfg, resume)
    if cfg.epochs < 1 or cfg.batch_size < 1 or cfg.seq_len < 2:
        raise MoodtuneError("--epochs and --batch-size must be positive and --seq-len at least 2")
    L.seed_everything(cfg.seed, workers=True, verbose=False)
    tokenizer, pieces, styles = load_pieces(cfg.data, cfg.tokens, cfg.transpose)
    train_pieces = _split(pieces, "train") or pieces
    val_pieces = _split(pieces, "val") or train_pieces
    model_config = SymbolicLSTMConfig.preset(
        cfg.size, vocab_size=len(tokenizer.vocabulary), n_styles=len(styles), seq_len=cfg.seq_len
    )
    train_ds = TokenWindowDataset(train_pieces, tokenizer, cfg.seq_len)
    val_ds = TokenWindowDataset(val_pieces, tokenizer, cfg.seq_len, hop=cfg.seq_len)
    train_loader, val_loader = loaders(train_ds, val_ds, cfg.batch_size, cfg.seed, drop_last=False)
    out.mkdir(parents=True, exist_ok=True)
    run_config = {
        "engine": "symbolic",
        "train": asdict(cfg),
        "model": model_config.to_dict(),
        "tokenizer": tokenizer.to_dict(),
        "styles": styles,
    }
    write_json_atomic(out / "train_config.json", run_config)
    module = SymbolicLSTMModule(model_config.to_dict(), cfg.lr, pad_id=tokenizer.index[PAD])
    model, results = fit(module, out, cfg, train_loader, val_loader, resume_from, progress, t0)
    results.update(
        {
            "train_tokens": sum(len(p.tokens) for p in train_pieces),
            "val_perplexity": round(heldout_perplexity(model, val_ds, tokenizer.index[PAD]), 3),
            "vocabulary": len(tokenizer.vocabulary),
        }
    )
    test = _split(pieces, "test")
    if test:
        results["test_perplexity"] = round(
            heldout_perplexity(
                model, TokenWindowDataset(test, tokenizer, cfg.seq_len, hop=cfg.seq_len), tokenizer.index[PAD]
            ),
            3,
        )
    save_checkpoint(out, "symbolic", model.state_dict(), {**run_config, "data": str(cfg.data), "results": results})
    write_training_plots(out, ["loss"])
    return results


@torch.no_grad()
def heldout_perplexity(model: SymbolicLSTM, dataset: TokenWindowDataset, pad_id: int) -> float:
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
