import torch

from moodtune.models.latent_prior import MoodLatentPrior


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
