import dataclasses
import json

import numpy as np
import pytest
import torch

from moodtune.api import make_request
from moodtune.cli import main
from moodtune.data import prepare
from moodtune.data.manifest import read_manifest
from moodtune.data.torch_datasets import MelSliceDataset, style_vocabulary
from moodtune.engines.base import Request, load_engine
from moodtune.engines.checkpoint import CONFIG_FILE
from moodtune.engines.spectrogram import SpectrogramEngine
from moodtune.errors import MoodtuneError
from moodtune.models.spectrogram_vae import SpectrogramVAE, SpectrogramVAEConfig
from moodtune.mood import Mood
from moodtune.training.recipe import train
from moodtune.training.spectrogram import SpectrogramTrainConfig
from moodtune.training.vae_module import VAEModule, vae_losses

MOODS = ("happy", "sad", "angry", "calm")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("tiny_builtin")
    prepare("builtin", None, out, clip_seconds=3.0, limit=3, workers=1, progress=False)
    return out


@pytest.fixture(scope="module")
def run_dir(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("run")
    cfg = SpectrogramTrainConfig(data=str(data_dir), out=str(out), epochs=2, size="debug", latent_dim=8, batch_size=8)
    train(cfg, progress=False).flat()
    return out


def test_a_few_steps_lower_the_loss(data_dir):
    torch.manual_seed(0)
    manifest = read_manifest(data_dir)
    styles = style_vocabulary(manifest)
    ds = MelSliceDataset(data_dir, "train", styles, manifest=manifest)
    batch = {k: torch.stack([ds[i][k] for i in range(8)]) for k in ("x", "mood", "style")}
    cfg = SpectrogramVAEConfig.preset("debug", n_styles=len(styles))
    train_cfg = SpectrogramTrainConfig(data="d", out="o", lr=3e-3, kl_warmup_steps=0)
    module = VAEModule(SpectrogramVAE(cfg), train_cfg)
    opt = module.configure_optimizers()

    def loss():
        recon, mu, logvar = module.model(batch["x"], batch["mood"], batch["style"])
        rec, kl = vae_losses(batch["x"], recon, mu, logvar)
        return rec + kl

    with torch.no_grad():
        torch.manual_seed(1)
        before = float(loss())
    for _ in range(40):
        opt.zero_grad()
        loss().backward()
        opt.step()
    with torch.no_grad():
        torch.manual_seed(1)
        after = float(loss())
    assert after < 0.7 * before


def test_training_writes_a_complete_run(run_dir):
    config = json.loads((run_dir / CONFIG_FILE).read_text())
    assert config["engine"] == "spectrogram" and config["format"] == 1 and config["moodtune_version"]
    assert config["styles"][0] == "<unknown>" and len(config["styles"]) == 4
    assert config["model"]["latent_dim"] == 8 and config["train"]["epochs"] == 2
    assert np.isfinite(config["results"]["heldout_lsd_db"]) and config["results"]["heldout_clips"] > 0
    for name in ("training_curves.png", "latent_map.png", "reconstruction.png"):
        assert (run_dir / "plots" / name).stat().st_size > 1000
    assert (run_dir / "checkpoints" / "last.ckpt").is_file()
    assert list((run_dir / "logs").glob("version_*/metrics.csv"))
    # the adversarial stage ran after the VAE's training, with its own checkpoints and logs
    assert config["results"]["adversarial_steps"] > 0
    assert (run_dir / "adversarial" / "checkpoints" / "last.ckpt").is_file()
    assert list((run_dir / "adversarial" / "logs").glob("version_*/metrics.csv"))


def test_save_load_same_output_for_same_seed(run_dir):
    a = load_engine(run_dir).generate(Request(mood=Mood.named("calm"), seconds=4, seed=3))
    b = SpectrogramEngine.from_checkpoint(run_dir).generate(Request(mood=Mood.named("calm"), seconds=4, seed=3))
    np.testing.assert_array_equal(a.audio, b.audio)


@pytest.mark.parametrize("mood", MOODS)
def test_each_named_mood_gives_finite_audible_audio_of_the_asked_length(run_dir, mood):
    engine = load_engine(run_dir)
    result = engine.generate(Request(mood=Mood.named(mood), seconds=5.5, seed=0))
    assert result.sr == 22050 and len(result.audio) == round(5.5 * 22050)
    assert np.all(np.isfinite(result.audio))
    assert float(np.sqrt(np.mean(result.audio**2))) > 1e-4


def test_changing_the_mood_changes_the_output(run_dir):
    engine = load_engine(run_dir)
    happy = engine.generate_mel(Request(mood=Mood.named("happy"), seconds=3, seed=0))
    sad = engine.generate_mel(Request(mood=Mood.named("sad"), seconds=3, seed=0))
    assert float((happy - sad).abs().mean()) > 1e-4


def test_style_and_reconstruction(run_dir, data_dir, tmp_path):
    engine = load_engine(run_dir)
    style = engine.styles[1]
    assert engine.generate(Request(mood=Mood.named("happy"), seconds=2, style=style)).audio.size
    with pytest.raises(MoodtuneError, match="unknown style"):
        engine.generate(Request(mood=Mood.named("happy"), seconds=2, style="polka"))
    wav = next((data_dir / "audio").rglob("*.wav"))
    assert main(["reconstruct", str(wav), "--checkpoint", str(run_dir), "--out", str(tmp_path / "r.wav")]) == 0
    assert (tmp_path / "r.wav").is_file() and (tmp_path / "r.png").is_file()


def test_cli_generate_interpolate_and_plot(run_dir, tmp_path):
    assert (
        main(
            [
                "generate",
                "--checkpoint",
                str(run_dir),
                "--mood",
                "sad",
                "--seconds",
                "3",
                "--out",
                str(tmp_path / "s.wav"),
                "--plot",
            ]
        )
        == 0
    )
    assert (tmp_path / "s.png").is_file()
    args = ["interpolate", "--checkpoint", str(run_dir), "--from", "sad", "--to", "happy", "--seconds", "4"]
    assert main([*args, "--out", str(tmp_path / "m.wav")]) == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--mood", "ecstatic"], "unknown mood"),
        (["--valence", "1.5", "--arousal", "0"], "valence must be"),
        (["--valence", "0.5"], "go together"),
        (["--mood", "sad", "--trajectory", "sad:0,happy:3"], "exactly one"),
    ],
)
def test_bad_generate_arguments_exit_2(run_dir, tmp_path, capsys, args, message):
    assert main(["generate", "--checkpoint", str(run_dir), *args, "--out", str(tmp_path / "x.wav")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0]


def test_missing_or_foreign_checkpoint(tmp_path, run_dir, capsys):
    assert (
        main(["generate", "--checkpoint", str(tmp_path / "none"), "--mood", "sad", "--out", str(tmp_path / "x.wav")])
        == 2
    )
    assert "checkpoint not found" in capsys.readouterr().err
    bad = tmp_path / "future"
    bad.mkdir()
    (bad / "model.safetensors").write_bytes((run_dir / "model.safetensors").read_bytes())
    config = json.loads((run_dir / CONFIG_FILE).read_text())
    (bad / CONFIG_FILE).write_text(json.dumps({**config, "format": 99}))
    with pytest.raises(MoodtuneError, match="format 99"):
        load_engine(bad)


def test_resume_continues_and_refuses_to_overwrite(data_dir, tmp_path):
    out = tmp_path / "r"
    cfg = SpectrogramTrainConfig(data=str(data_dir), out=str(out), epochs=1, size="debug", latent_dim=4, batch_size=8)
    assert train(cfg, progress=False).flat()["epochs"] == 1
    with pytest.raises(MoodtuneError, match="--resume"):
        train(cfg, progress=False).flat()
    first_stage = json.loads((out / "adversarial" / "started_from.json").read_text())["vae_step"]
    cfg.epochs = 2
    results = train(dataclasses.replace(cfg, resume=True), progress=False).flat()
    assert results["epochs"] == 2
    # the VAE trained on, so the adversarial stage started again from its new weights (not the old stage's)
    started_from = json.loads((out / "adversarial" / "started_from.json").read_text())["vae_step"]
    assert started_from == results["steps"] > first_stage
    assert len(list((out / "adversarial" / "logs").iterdir())) == 1
    # resumed with nothing more for the VAE to do, the stage continues from its own checkpoint
    again = train(dataclasses.replace(cfg, resume=True, adversarial_minutes=3.0), progress=False).flat()
    assert again["steps"] == results["steps"] and len(list((out / "adversarial" / "logs").iterdir())) == 2


def test_request_validation():
    with pytest.raises(MoodtuneError):
        Request(seconds=3)
    with pytest.raises(MoodtuneError):
        make_request(mood="sad", seconds=0.1)


def test_cpu_training_is_reproducible(data_dir, tmp_path):
    from safetensors.torch import load_file

    weights = []
    for name in ("a", "b"):
        cfg = SpectrogramTrainConfig(
            data=str(data_dir), out=str(tmp_path / name), epochs=1, size="debug", latent_dim=4, batch_size=8, seed=7
        )
        train(cfg, progress=False).flat()
        weights.append(load_file(str(tmp_path / name / "model.safetensors")))
    assert weights[0].keys() == weights[1].keys()
    for key in weights[0]:
        torch.testing.assert_close(weights[0][key], weights[1][key], rtol=0, atol=0)
