"""Hardware options are checked before Lightning starts, and the writing process is known before it starts."""

from __future__ import annotations

import pytest

from moodtune.errors import MoodtuneError
from moodtune.training import distributed
from moodtune.training.config import from_saved
from moodtune.training.distributed import check_hardware, is_primary
from moodtune.training.spectrogram import SpectrogramTrainConfig


def cfg(**kw) -> SpectrogramTrainConfig:
    return SpectrogramTrainConfig(data="d", out="o", **kw)


@pytest.mark.parametrize(
    ("env", "primary"),
    [
        ({}, True),
        ({"RANK": "0", "LOCAL_RANK": "0", "SLURM_PROCID": "0"}, True),
        ({"LOCAL_RANK": "1"}, False),  # Lightning's launcher, second process on this machine
        ({"NODE_RANK": "1", "LOCAL_RANK": "0"}, False),  # first process of the second machine
        ({"RANK": "5"}, False),  # torchrun
        ({"SLURM_PROCID": "3"}, False),  # srun
    ],
)
def test_the_writing_process_is_rank_zero_of_every_launcher(env, primary):
    assert is_primary(env) is primary


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"precision": "16-mixed"}, "16-mixed needs a GPU"),
        ({"strategy": "fsdp"}, "fsdp shards weights over GPUs"),
        ({"devices": 64}, "--devices 64: a CPU run starts one process per device, and this machine has 2 core"),
    ],
)
def test_cpu_runs_refuse_what_a_cpu_cannot_do(options, message, monkeypatch):
    monkeypatch.setattr(distributed.os, "cpu_count", lambda: 2)
    with pytest.raises(MoodtuneError, match=message):
        check_hardware(cfg(accelerator="cpu", **options), env={})


def test_bf16_is_refused_on_a_cpu_without_it_and_allowed_with_it(monkeypatch):
    monkeypatch.setattr(distributed, "cpu_supports_bf16", lambda: False)
    with pytest.raises(MoodtuneError, match="no bfloat16 support"):
        check_hardware(cfg(accelerator="cpu", precision="bf16-mixed"), env={})
    monkeypatch.setattr(distributed, "cpu_supports_bf16", lambda: True)
    check_hardware(cfg(accelerator="cpu", precision="bf16-mixed"), env={})


def test_gpu_runs_need_the_gpus_they_ask_for(monkeypatch):
    monkeypatch.setattr(distributed.torch.cuda, "device_count", lambda: 0)
    with pytest.raises(MoodtuneError, match="no CUDA GPU is visible"):
        check_hardware(cfg(accelerator="gpu"), env={})
    monkeypatch.setattr(distributed.torch.cuda, "device_count", lambda: 2)
    with pytest.raises(MoodtuneError, match="--devices 4: only 2 GPU"):
        check_hardware(cfg(accelerator="gpu", devices=4), env={})
    monkeypatch.setattr(distributed, "gpu_supports_bf16", lambda: False)
    monkeypatch.setattr(distributed.torch.cuda, "get_device_name", lambda i: "Tesla V100")
    with pytest.raises(MoodtuneError, match="Tesla V100 has no bfloat16 support"):
        check_hardware(cfg(accelerator="gpu", precision="bf16-mixed"), env={})
    check_hardware(cfg(accelerator="gpu", devices=2, strategy="fsdp", precision="16-mixed"), env={})


def test_a_launcher_must_start_devices_times_nodes_processes(monkeypatch):
    monkeypatch.setattr(distributed.os, "cpu_count", lambda: 2)
    with pytest.raises(MoodtuneError, match="started 4 processes, but --devices 2 x --num-nodes 1 is 2"):
        check_hardware(cfg(accelerator="cpu", devices=2), env={"WORLD_SIZE": "4"})
    check_hardware(cfg(accelerator="cpu", devices=1, num_nodes=4), env={"WORLD_SIZE": "4"})


def test_resume_keeps_the_runs_settings_and_takes_this_calls_hardware():
    saved = cfg(size="debug", latent_dim=8, devices=1).to_dict()
    typed = frozenset({"data", "out", "resume", "devices", "strategy"})
    resumed = from_saved(cfg(resume=True, devices=2, strategy="ddp", epochs=5), saved, typed)
    assert (resumed.size, resumed.latent_dim) == ("debug", 8)  # left out: the run's own
    assert (resumed.devices, resumed.strategy, resumed.epochs) == (2, "ddp", 5)  # hardware and length: this call's
    with pytest.raises(MoodtuneError, match="size was 'debug', not 'base'"):
        from_saved(cfg(resume=True, size="base"), saved, typed | {"size"})
