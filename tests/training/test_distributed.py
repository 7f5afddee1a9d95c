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
        ({"devices": 64}, "--devices 64: a CPU run starts one process per device, and this process may use 2 core"),
    ],
)
def test_cpu_runs_refuse_what_a_cpu_cannot_do(options, message, monkeypatch):
    monkeypatch.setattr(distributed, "cpu_cores", lambda: 2)
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
    monkeypatch.setattr(distributed, "cpu_cores", lambda: 2)
    torchrun = {"TORCHELASTIC_RUN_ID": "x", "WORLD_SIZE": "4", "LOCAL_WORLD_SIZE": "2"}
    with pytest.raises(MoodtuneError, match="torchrun started 4 processes, but --devices 2 x --num-nodes 1 is 2"):
        check_hardware(cfg(accelerator="cpu", devices=2), env=torchrun)
    with pytest.raises(MoodtuneError, match="--nproc-per-node is 2, but --devices is 1"):
        check_hardware(cfg(accelerator="cpu", devices=1, num_nodes=4), env=torchrun)
    check_hardware(cfg(accelerator="cpu", devices=2, num_nodes=2), env=torchrun)
    srun = {"SLURM_NTASKS": "8", "SLURM_JOB_NAME": "train"}
    with pytest.raises(MoodtuneError, match=r"SLURM started 8 task.*--ntasks-per-node=2 and --nodes=2"):
        check_hardware(cfg(accelerator="cpu", devices=2, num_nodes=2), env=srun)
    check_hardware(cfg(accelerator="cpu", devices=2, num_nodes=4), env=srun)
    check_hardware(cfg(accelerator="cpu", devices=2), env={**srun, "SLURM_JOB_NAME": "bash"})  # salloc: not srun's
    with pytest.raises(MoodtuneError, match="--num-nodes 2: nothing starts the other machines' processes"):
        check_hardware(cfg(accelerator="cpu", num_nodes=2), env={})
    check_hardware(cfg(accelerator="cpu", num_nodes=2), env={"MASTER_ADDR": "node0", "NODE_RANK": "0"})


def test_a_one_process_run_writes_whatever_a_shell_left_in_its_environment():
    assert is_primary({"NODE_RANK": "1", "LOCAL_RANK": "1"}, world=1)
    assert not is_primary({"NODE_RANK": "1"}, world=4)


def test_fsdp_is_refused_for_an_engine_that_cannot_use_it(monkeypatch):
    from moodtune.training.sequence import SequenceTrainConfig

    monkeypatch.setattr(distributed.torch.cuda, "device_count", lambda: 2)
    with pytest.raises(MoodtuneError, match="--strategy fsdp: the sequence engine clips its gradients by norm"):
        check_hardware(SequenceTrainConfig(data="d", out="o", vae="v", accelerator="gpu", strategy="fsdp"), env={})


def test_resume_keeps_the_runs_settings_and_takes_the_hardware_and_length_typed():
    saved = cfg(size="debug", latent_dim=8, devices=1, precision="bf16-mixed", epochs=200).to_dict()
    typed = frozenset({"data", "out", "resume", "devices", "strategy"})
    resumed = from_saved(cfg(resume=True, devices=2, strategy="ddp"), saved, typed)
    assert (resumed.size, resumed.latent_dim) == ("debug", 8)  # left out: the run's own
    assert (resumed.devices, resumed.strategy) == (2, "ddp")  # typed hardware: this call's
    assert (resumed.precision, resumed.epochs) == ("bf16-mixed", 200)  # left out: the run's, not the defaults
    assert from_saved(cfg(resume=True, epochs=300), saved, typed | {"epochs"}).epochs == 300
    assert from_saved(cfg(resume=True, epochs=300), saved, None).epochs == 300  # API: not at its default
    with pytest.raises(MoodtuneError, match="size was 'debug', not 'base'"):
        from_saved(cfg(resume=True, size="base"), saved, typed | {"size"})


def test_every_process_gets_a_batch_when_the_set_is_shared(monkeypatch):
    import torch
    from torch.utils.data import TensorDataset

    from moodtune.training.trainer import loaders

    data = TensorDataset(torch.zeros(40, 1))
    assert loaders(data, data, 32, drop_last=True, processes=1)[0].drop_last  # 40 items: one full batch
    assert not loaders(data, data, 32, drop_last=True, processes=2)[0].drop_last  # 20 each: keep the short one
