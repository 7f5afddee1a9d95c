import pytest
import torch
from torch.utils.data import Dataset

from moodtune.engines.spectrogram import LEVEL_FADE, raise_level
from moodtune.models.discriminator import MelDiscriminator
from moodtune.models.spectrogram_vae import SpectrogramVAE, SpectrogramVAEConfig
from moodtune.training.adversarial import STAGE_DIR, feature_matching, hinge_losses, sharpen_decoder
from moodtune.training.spectrogram import SpectrogramTrainConfig


class Slices(Dataset):
    """Log-mel-like slices with sharp onsets: a bright column every 8 frames on a quiet floor."""

    def __init__(self, n: int = 12, size: int = 32) -> None:
        g = torch.Generator().manual_seed(0)
        x = 0.1 * torch.rand(n, 1, size, size, generator=g)
        x[..., ::8] += 0.8
        self.x = x.clamp(0, 1)
        self.mood = torch.tensor([[0.5, 0.5, 1.0]]).repeat(n, 1)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        return {"x": self.x[i], "mood": self.mood[i], "style": torch.tensor(0)}


def test_discriminator_scores_patches_and_returns_its_features():
    logits, features = MelDiscriminator()(torch.rand(2, 1, 32, 64))
    assert logits.shape == (2, 1, 4, 8)
    assert [f.shape[1] for f in features] == [16, 32, 64, 128]


def test_hinge_and_feature_matching():
    confident = torch.full((3, 1, 2, 2), 2.0)
    assert hinge_losses(confident, -confident) == 0  # real scored high, generated low: nothing to learn
    assert hinge_losses(-confident, confident) == pytest.approx(6.0)
    same = [torch.ones(2, 3), torch.zeros(2, 4)]
    assert feature_matching(same, same) == 0
    assert feature_matching([torch.ones(2, 3)], [torch.zeros(2, 3)]) == pytest.approx(1.0)


def test_the_stage_moves_the_decoder_and_nothing_else(tmp_path):
    torch.manual_seed(0)
    data = Slices()
    model = SpectrogramVAE(SpectrogramVAEConfig(n_mels=32, frames=32, latent_dim=8, channels=(4, 8), n_styles=1))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    batch = {k: torch.stack([data[i][k] for i in range(4)]) for k in ("x", "mood", "style")}
    posterior = model.encode(batch["x"], batch["mood"], batch["style"])
    cfg = SpectrogramTrainConfig(data="d", out=str(tmp_path), epochs=2, batch_size=4, limit_train_batches=3)
    model, counts = sharpen_decoder(model, data, cfg, minutes=5.0, out=tmp_path, progress=False)
    assert counts["adversarial_steps"] == 6  # 3 batches x 2 epochs
    after = model.state_dict()
    frozen = ("encoder.", "to_stats.", "conditioner.")
    for key, value in before.items():
        if key.startswith(frozen):
            assert torch.equal(after[key], value), key
    assert any(not torch.equal(after[k], v) for k, v in before.items() if k.startswith(("decoder.", "head.")))
    again = model.encode(batch["x"], batch["mood"], batch["style"])
    assert all(torch.equal(a, b) for a, b in zip(posterior, again, strict=True))  # latents keep their meaning
    assert all(p.requires_grad for p in model.parameters()) and not model.training
    assert (tmp_path / STAGE_DIR / "checkpoints" / "last.ckpt").is_file()


def test_the_level_correction_raises_the_music_not_the_floor():
    mel = torch.tensor([[[0.0, LEVEL_FADE / 2, LEVEL_FADE, 0.5, 0.99]]])
    raised = raise_level(mel, torch.tensor([0.05]))[0, 0]
    assert raised[0] == 0  # the floor stays silent
    assert raised[1] == pytest.approx(LEVEL_FADE / 2 + 0.025)  # halfway up the fade: half the shift
    assert raised[2:4].tolist() == pytest.approx([LEVEL_FADE + 0.05, 0.55])  # the music: the full shift
    assert raised[4] == 1.0  # clipped at the top
    lowered = raise_level(mel, torch.tensor([-0.05]))[0, 0]
    assert lowered[0] == 0 and lowered[3] == pytest.approx(0.45)
