"""The symbolic training wrapper: which mood the network sees in training and in validation."""

import torch

from moodtune.models.symbolic import symbolic_config
from moodtune.training.symbolic import SymbolicTrainConfig
from moodtune.training.symbolic_module import SymbolicModule


def _seen_moods(dropout: float, stage: str) -> tuple[torch.Tensor, torch.Tensor]:
    cfg = SymbolicTrainConfig(data="d", out="o", size="debug")
    module = SymbolicModule(symbolic_config("lstm", "debug", vocab_size=20, n_styles=4), cfg, 0, dropout)
    seen = []
    forward = module.model.forward
    module.model.forward = lambda tokens, mood, style: seen.append(mood) or forward(tokens, mood, style)
    mood = torch.rand(512, 1, 3).expand(512, 9, 3) + 0.1  # one mood per window, never zero
    batch = {"tokens": torch.randint(1, 20, (512, 9)), "mood": mood, "style": torch.randint(1, 4, (512,))}
    module.log = lambda *a, **k: None  # outside a Trainer
    torch.manual_seed(0)
    assert torch.isfinite(module._step(batch, stage))
    return seen[0], mood[:, :-1]


def test_mood_dropout_hides_whole_windows_in_training_only():
    seen, true = _seen_moods(0.25, "train")
    hidden = (seen == 0).all(-1)  # [B, T]
    assert (hidden.all(1) | ~hidden.any(1)).all()  # a window is hidden whole or not at all
    assert 0.15 < hidden.all(1).float().mean() < 0.35
    assert torch.equal(seen[~hidden.all(1)], true[~hidden.all(1)])
    seen, true = _seen_moods(0.25, "val")
    assert torch.equal(seen, true)  # validation reads every mood
    seen, true = _seen_moods(0.0, "train")
    assert torch.equal(seen, true)
