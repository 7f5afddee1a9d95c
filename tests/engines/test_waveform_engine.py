import csv

import numpy as np
import pytest
import torch
from PIL import Image

from moodtune.audio.distances import multi_resolution_stft_loss
from moodtune.cli import main
from moodtune.data import prepare
from moodtune.engines.base import Request, load_engine
from moodtune.engines.checkpoint import save_checkpoint
from moodtune.engines.waveform import WaveformEngine
from moodtune.errors import MoodtuneError
from moodtune.models.waveform_vae import WaveformVAE, WaveformVAEConfig
from moodtune.mood import Mood
from moodtune.training.recipe import train
from moodtune.training.waveform import WaveformTrainConfig
from tests.conftest import music_like, write_audio

EPOCHS = 6


@pytest.mark.parametrize("decoder", ["additive", "conv"])
@pytest.mark.parametrize(("sr", "seconds"), [(3000, 30.0), (3000, 1.0), (16000, 0.25)])
def test_output_length_is_exactly_the_input_length(sr, seconds, decoder):
    config = WaveformVAEConfig.preset("debug", sr=sr, seconds=seconds, decoder=decoder)
    model = WaveformVAE(config).eval()
    x = torch.from_numpy(music_like(seconds + 0.01, sr)[: config.samples]).view(1, 1, -1).repeat(2, 1, 1)
    with torch.no_grad():
        recon, mu, _ = model(x, torch.zeros(2, 3), torch.zeros(2, dtype=torch.long))
    assert config.samples == round(sr * seconds) + 1
    assert recon.shape == x.shape and mu.shape == (2, config.latent_dim)
    assert torch.isfinite(recon).all() and recon.abs().max() <= 1


def test_defaults():
    c = WaveformVAEConfig()
    assert (c.sr, c.samples, c.latent_dim, c.enc_channels, c.dec_channels, c.decoder, c.frames) == (
        8000,
        8001,
        32,
        (64, 128, 128, 256),
        (512, 256, 128, 64),
        "additive",
        101,
    )
    with pytest.raises(ValueError, match="unknown decoder"):
        WaveformVAEConfig(decoder="wavenet")


def test_the_mood_reaches_every_decoder_stage():
    """With FiLM, changing only the mood changes the output even when the dense input layer ignores it."""
    config = WaveformVAEConfig.preset("debug", sr=4000, seconds=0.5)
    model = WaveformVAE(config).eval()
    for film in model.decoder.stages.film:
        torch.nn.init.normal_(film.proj.weight, std=0.5)
    z = torch.randn(1, config.latent_dim)
    style = torch.zeros(1, dtype=torch.long)
    with torch.no_grad():
        model.from_latent[0].weight[:, config.latent_dim :] = 0.0  # the condition no longer enters here
        happy = model.decode(z, torch.tensor([[0.6, 0.6, 1.0]]), style)
        sad = model.decode(z, torch.tensor([[-0.6, -0.6, 1.0]]), style)
    assert not torch.allclose(happy, sad)


def test_stft_loss_is_zero_for_identical_and_grows_with_noise():
    x = torch.from_numpy(music_like(1.0, 3000)).view(1, 1, -1)
    noisy = x + 0.05 * torch.randn_like(x)
    assert float(multi_resolution_stft_loss(x, x, (64, 256))) < 1e-6
    assert float(multi_resolution_stft_loss(x, noisy, (64, 256))) > 0.1


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    data = tmp_path_factory.mktemp("wave_data")
    prepare("builtin", None, data, clip_seconds=4.0, limit=3, workers=1, progress=False)
    out = tmp_path_factory.mktemp("wave_run")
    cfg = WaveformTrainConfig(
        data=str(data), out=str(out), sr=3000, seconds=2.0, size="debug", epochs=EPOCHS, batch_size=4, lr=3e-3
    )
    return data, out, train(cfg, progress=False).flat()


def test_tiny_model_trains_and_lowers_the_loss(run):
    _, out, results = run
    rows = list(csv.DictReader((out / "logs" / "version_0" / "metrics.csv").open()))
    loss = [float(r["train/loss_epoch"]) for r in rows if r.get("train/loss_epoch")]
    assert len(loss) == EPOCHS and loss[-1] < loss[0]
    assert any(r.get("val/neg_elbo") for r in rows)
    assert np.isfinite(results["heldout_mrstft_sc"])


def test_a_grid_per_epoch_and_a_gif_of_them(run):
    _, out, _ = run
    grids = sorted((out / "plots" / "epochs").glob("epoch_*.png"))
    assert len(grids) == EPOCHS
    gif = Image.open(out / "plots" / "training.gif")
    assert gif.n_frames == EPOCHS


def test_generation_has_the_exact_length_and_any_length(run):
    engine = load_engine(run[1])
    assert isinstance(engine, WaveformEngine)
    for seconds in (1.3, 7.25):
        result = engine.generate(Request(mood=Mood.named("calm"), seconds=seconds, seed=1))
        assert result.sr == 3000 and len(result.audio) == round(seconds * 3000)
        assert np.isfinite(result.audio).all() and np.abs(result.audio).max() > 0


def test_save_load_round_trip(run, tmp_path):
    engine = load_engine(run[1])
    save_checkpoint(tmp_path, "waveform", engine.state_dict(), engine.config)
    again = WaveformEngine.from_checkpoint(tmp_path)
    for k, v in engine.state_dict().items():
        assert torch.equal(v, again.state_dict()[k]), k
    request = Request(mood=Mood.named("sad"), seconds=3.0, seed=4)
    assert np.array_equal(engine.generate(request).audio, again.generate(request).audio)


def test_vary_keeps_the_length_and_amount_moves_away(run, tmp_path):
    engine = load_engine(run[1])
    audio = music_like(5.0, 3000)
    same = engine.vary(audio, amount=0.0, seed=0)
    moved = engine.vary(audio, amount=2.0, seed=0)
    assert len(same) == len(moved) == len(audio)
    assert not np.allclose(same, moved)
    src = write_audio(tmp_path / "in.wav", music_like(3.0, 22050), 22050)
    assert (
        main(["vary", str(src), "--checkpoint", str(run[1]), "--amount", "0.5", "--out", str(tmp_path / "v.wav")]) == 0
    )
    assert (tmp_path / "v.wav").is_file() and (tmp_path / "v.png").is_file()
    assert (
        main(["vary", str(tmp_path / "missing.wav"), "--checkpoint", str(run[1]), "--out", str(tmp_path / "x.wav")])
        == 2
    )


def test_the_additive_decoder_needs_its_spectral_loss():
    with pytest.raises(MoodtuneError, match="--spectral-weight must be positive"):
        WaveformTrainConfig(data="d", out="o", spectral_weight=0.0)
    assert WaveformTrainConfig(data="d", out="o", spectral_weight=0.0, decoder="conv").spectral_weight == 0.0
