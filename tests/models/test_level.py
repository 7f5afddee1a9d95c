import torch

from moodtune.models.level import LevelCorrection, level_from_state, level_state


def test_level_correction_recovers_a_linear_loss_and_round_trips():
    gen = torch.Generator().manual_seed(0)
    va = torch.rand(200, 2, generator=gen) * 2 - 1
    mood = torch.cat([va, torch.ones(200, 1)], dim=1)
    loss_db = 3.0 + 4.0 * va[:, 1] - 1.0 * va[:, 0]  # loud, high-arousal music loses most
    level = LevelCorrection.fit(loss_db, mood)
    ask = torch.tensor([[0.5, 0.8, 1.0], [-0.5, -0.8, 1.0]])
    assert torch.allclose(level.gain_db(ask), torch.tensor([3.0 + 3.2 - 0.5, 3.0 - 3.2 + 0.5]), atol=1e-2)
    # nothing unlabelled was seen: an unknown mood gets the mean loss, not zero
    assert torch.allclose(level.gain_db(torch.tensor([[0.0, 0.0, 0.0]])), loss_db.mean(), atol=1e-4)
    again = level_from_state(level_state(level))
    assert again is not None and torch.equal(again.weight, level.weight)
    assert level_from_state({}) is None
