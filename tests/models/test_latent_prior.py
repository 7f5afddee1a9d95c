import pytest
import torch

from moodtune.models.latent_prior import ExemplarPrior, MoodLatentPrior, prior_from_state, prior_state


def test_fit_recovers_a_linear_mood_map_and_residual_scale():
    torch.manual_seed(0)
    n, d = 4000, 6
    mood = torch.cat([torch.rand(n, 2) * 2 - 1, torch.ones(n, 1)], dim=1)
    mood[: n // 4, :] = 0.0  # a quarter unlabeled
    true_w = torch.randn(2, d)
    offset_known, offset_unknown = torch.randn(d), torch.randn(d)
    known = mood[:, 2:3]
    latents = known * (mood[:, :2] @ true_w + offset_known) + (1 - known) * offset_unknown + 0.1 * torch.randn(n, d)
    prior = MoodLatentPrior.fit(latents, mood)
    torch.testing.assert_close(prior.weight[:2], true_w, atol=0.02, rtol=0)
    query = torch.tensor([[0.5, -0.5, 1.0], [0.0, 0.0, 0.0]])
    expected = torch.stack([query[0, :2] @ true_w + offset_known, offset_unknown])
    torch.testing.assert_close(prior.mean(query), expected, atol=0.02, rtol=0)
    cov = prior.chol @ prior.chol.T
    torch.testing.assert_close(torch.diagonal(cov), torch.full((d,), 0.01), atol=0.003, rtol=0)
    z = prior.sample(query, torch.zeros(2, d), temperature=1.0)
    torch.testing.assert_close(z, prior.mean(query))


def _exemplars(n_per: int = 50) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Four clusters of latents, one per quadrant mood, centred at +-10 on the first two dimensions."""
    gen = torch.Generator().manual_seed(0)
    corners = torch.tensor([[0.7, 0.7], [-0.7, 0.7], [-0.7, -0.7], [0.7, -0.7]])
    va = corners.repeat_interleave(n_per, 0) + 0.05 * torch.randn(4 * n_per, 2, generator=gen)
    means = torch.zeros(4 * n_per, 6)
    means[:, :2] = 10 * va.sign() + torch.randn(4 * n_per, 2, generator=gen)
    logvars = torch.full((4 * n_per, 6), -4.0)
    return means, logvars, torch.cat([va, torch.ones(4 * n_per, 1)], 1)


def test_exemplar_prior_draws_from_the_items_of_the_asked_mood():
    means, logvars, mood = _exemplars()
    prior = ExemplarPrior.fit(means, logvars, mood, bandwidth=0.2)
    asked = torch.tensor([[0.7, 0.7, 1.0], [-0.7, -0.7, 1.0]]).repeat(100, 1)
    z = prior.sample(asked, torch.randn(200, 6, generator=torch.Generator().manual_seed(1)))
    assert torch.all(z[0::2, :2] > 5) and torch.all(z[1::2, :2] < -5)
    w = prior.weights(asked[:2])
    assert torch.allclose(w.sum(1), torch.ones(2))
    assert w[0, :50].sum() > 0.99  # the happy items


def test_exemplar_prior_unknown_mood_is_uniform_and_sampling_spreads_over_items():
    means, logvars, mood = _exemplars()
    prior = ExemplarPrior.fit(means, logvars, mood)
    w = prior.weights(torch.zeros(1, 3))
    assert torch.allclose(w, torch.full_like(w, 1 / len(means)))
    picks = prior.pick(torch.tensor([[0.7, 0.7, 1.0]]).repeat(500, 1), torch.rand(500))
    assert len(picks.unique()) > 25 and bool((picks < 50).all())


def test_exemplar_prior_survives_export_in_half_precision():
    means, logvars, mood = _exemplars(5)
    prior = ExemplarPrior.fit(means, logvars, mood, bandwidth=0.3)
    state = {k: v.half() for k, v in prior_state(prior).items()}
    back = prior_from_state(state, 6)
    assert isinstance(back, ExemplarPrior) and float(back.bandwidth) == pytest.approx(0.3, abs=1e-3)
    eps = torch.randn(3, 6)
    assert torch.allclose(back.sample(mood[:3], eps), prior.sample(mood[:3], eps), atol=0.05)


def test_chained_windows_stay_near_each_other_and_in_the_asked_mood():
    from moodtune.engines.base import Request
    from moodtune.engines.sampling import window_latents
    from moodtune.mood import Mood

    means, logvars, mood = _exemplars()
    means[:, 2:] = 3 * torch.randn(len(means), 4, generator=torch.Generator().manual_seed(2))  # spread within moods
    prior = ExemplarPrior.fit(means, logvars, mood)
    request = Request(mood=Mood.named("happy"), seconds=20.0, seed=3)
    centres = torch.arange(20).numpy() + 0.5

    def steps(reach):
        z, _, _ = window_latents(request, centres, 6, prior, 0.0, ["<unknown>"], chain_reach=reach)
        assert torch.all(z[:, :2] > 5)  # every window from the happy items
        return (z[1:] - z[:-1]).norm(dim=1).mean()

    assert steps(0.1) < steps(0.25) < 0.7 * steps(None)  # the narrower the reach, the smaller the steps
