"""Crash safety: a job killed with SIGKILL at a random moment leaves nothing half-written under a final name, and
a killed training run resumes to a loadable checkpoint. Every family resumes from Lightning's checkpoint with
``weights_only`` loading (no pickled code)."""

from __future__ import annotations

import dataclasses
import json
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import soundfile as sf

from moodtune.data.prepare import prepare
from moodtune.engines.base import Request, load_engine
from moodtune.mood import Mood
from moodtune.shipped import MOOD_MODEL, shipped_path
from moodtune.training.recipe import train
from moodtune.training.trainer import last_checkpoint
from tests.conftest import music_like, write_audio

MOODTUNE = [sys.executable, "-m", "moodtune"]


@pytest.fixture(scope="module")
def data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("crash_data")
    prepare("builtin", None, out, clip_seconds=4.0, limit=3, workers=1, progress=False)
    return out


@pytest.fixture(scope="module")
def vae(data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from moodtune.training.spectrogram import SpectrogramTrainConfig

    out = tmp_path_factory.mktemp("crash_vae")
    train(SpectrogramTrainConfig(data=str(data), out=str(out), epochs=1, size="debug", latent_dim=8, batch_size=8))
    return out


def family_config(family: str, data: Path, vae: Path, out: Path) -> object:
    """A tiny one-epoch configuration of each family."""
    common = {"data": str(data), "out": str(out), "epochs": 1, "size": "debug"}
    if family == "spectrogram":
        from moodtune.training.spectrogram import SpectrogramTrainConfig

        return SpectrogramTrainConfig(**common, latent_dim=4, batch_size=8)
    if family == "sequence":
        from moodtune.training.sequence import SequenceTrainConfig

        return SequenceTrainConfig(**common, vae=str(vae), steps=4, batch_size=8)
    if family == "waveform":
        from moodtune.training.waveform import WaveformTrainConfig

        return WaveformTrainConfig(**common, sr=3000, seconds=2.0, batch_size=4)
    if family == "latent":
        from moodtune.training.latent import LatentTrainConfig

        return LatentTrainConfig(**common, vae=str(vae), clip_seconds=5.0, latent_dim=4, batch_size=4)
    from moodtune.training.symbolic import SymbolicTrainConfig

    return SymbolicTrainConfig(**common, batch_size=32)


@pytest.mark.parametrize("family", ["spectrogram", "sequence", "waveform", "latent", "symbolic"])
def test_every_family_resumes_from_its_checkpoint(family: str, data: Path, vae: Path, tmp_path: Path) -> None:
    cfg = family_config(family, data, vae, tmp_path / family)
    assert train(cfg, progress=False).flat()["epochs"] == 1
    resumed = train(dataclasses.replace(cfg, epochs=2, resume=True), progress=False)  # weights_only loading
    assert resumed.flat()["epochs"] == 2
    load_engine(tmp_path / family)


def kill_at_random(cmd: list[str], after: Path | None, window: tuple[float, float], seed: int) -> int:
    """Start ``cmd``, wait until ``after`` exists (if given), then SIGKILL it at a random moment of ``window``
    seconds; returns its exit code (negative: killed)."""
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while after is not None and not after.exists() and child.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    time.sleep(random.Random(seed).uniform(*window))
    if child.poll() is None:
        child.send_signal(signal.SIGKILL)
    return child.wait()


def test_a_training_run_killed_at_a_random_moment_resumes_to_a_loadable_checkpoint(data: Path, tmp_path: Path) -> None:
    run = tmp_path / "run"
    base = ["train", "spectrogram", "--data", str(data), "--out", str(run), "--size", "debug", "--batch-size", "8"]
    code = kill_at_random([*MOODTUNE, *base, "--epochs", "200"], last_checkpoint(run), (0.0, 1.5), seed=7)
    assert code == -signal.SIGKILL, "the run must still have been training when it was killed"
    assert not (run / "model.safetensors").exists(), "no final weights from a killed run"
    finished = subprocess.run([*MOODTUNE, *base, "--resume", "--epochs", "200", "--max-minutes", "0.1"], timeout=300)
    assert finished.returncode == 0
    engine = load_engine(run)
    assert len(engine.generate(Request(mood=Mood.named("calm"), seconds=1.0)).audio) > 0


def complete_or_absent(folder: Path) -> list[str]:
    """The files under ``folder`` that are under a final name but not complete (WAV, PNG, JSON, CSV)."""
    bad = []
    for path in folder.rglob("*"):
        if not path.is_file() or path.name.startswith("."):
            continue
        try:
            if path.suffix == ".wav":
                sf.info(str(path))
                assert sf.read(str(path))[0].size > 0
            elif path.suffix == ".png":
                assert path.read_bytes().rstrip().endswith(b"IEND\xaeB`\x82")
            elif path.suffix == ".json":
                json.loads(path.read_text())
            elif path.suffix == ".csv":
                assert path.read_text().endswith("\n")
        except Exception:
            bad.append(str(path))
    return bad


@pytest.mark.parametrize("seed", [1, 2])
def test_a_killed_generate_leaves_nothing_half_written(tmp_path: Path, seed: int) -> None:
    out = tmp_path / "piece.wav"
    cmd = [*MOODTUNE, "generate", "--engine", "spectrogram", "--mood", "happy", "--seconds", "240", "--plot"]
    kill_at_random([*cmd, "--out", str(out)], None, (1.0, 4.0), seed)
    assert complete_or_absent(tmp_path) == []


def test_a_killed_analyze_leaves_nothing_half_written(tmp_path: Path) -> None:
    songs = tmp_path / "songs"
    for i in range(6):
        write_audio(songs / f"song{i}.wav", music_like(20.0, 22050, seed=i), 22050)
    out = tmp_path / "curves"
    cmd = [*MOODTUNE, "analyze", str(songs), "--curve", "--out", str(out), "--csv", str(tmp_path / "table.csv")]
    kill_at_random(cmd, out, (0.0, 0.5), seed=3)
    assert complete_or_absent(tmp_path) == []


def test_a_killed_evaluate_leaves_nothing_half_written(data: Path, tmp_path: Path) -> None:
    out = tmp_path / "eval"
    cmd = [*MOODTUNE, "evaluate", "--checkpoint", str(shipped_path("waveform")), "--data", str(data)]
    cmd += ["--out", str(out), "--n", "8", "--seconds", "2", "--mood-model", str(shipped_path(MOOD_MODEL))]
    kill_at_random(cmd, out, (0.5, 3.0), seed=4)
    assert complete_or_absent(tmp_path) == []
