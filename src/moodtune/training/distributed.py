"""Training on several processes: which process writes the run's files, and the hardware options checked
before Lightning starts (one clear line instead of a stack trace from inside a launcher).

A data-parallel run is one process per device. Lightning's own launcher (``--devices N`` on one machine)
starts the other processes by running the same command again; ``torchrun`` and SLURM's ``srun`` start them
all at once. Every process reads the data and trains; only the first (global rank 0) writes the run folder,
fits the latent prior, scores the held-out clips and prints the summary.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

import torch

from moodtune.errors import MoodtuneError
from moodtune.training.config import TrainConfig

#: Variables a launcher sets to a process's rank: torchrun (``RANK``), SLURM (``SLURM_PROCID``), Lightning's
#: launcher (``LOCAL_RANK``, ``NODE_RANK``), LSF (``JSM_NAMESPACE_RANK``).
RANK_VARIABLES = ("RANK", "LOCAL_RANK", "NODE_RANK", "SLURM_PROCID", "JSM_NAMESPACE_RANK")


def is_primary(env: Mapping[str, str] | None = None) -> bool:
    """Whether this process is global rank 0, judged from the launcher's variables before Lightning has
    started (a process no launcher started is rank 0). After fitting, ``trainer.is_global_zero`` says the same."""
    env = os.environ if env is None else env
    for name in RANK_VARIABLES:
        value = env.get(name, "").strip()
        if value and value != "0":
            return False
    return True


def world_size(cfg: TrainConfig) -> int:
    """Processes the run trains on: ``devices x num_nodes``."""
    return cfg.devices * cfg.num_nodes


def uses_gpu(accelerator: str) -> bool:
    """Whether ``accelerator`` (auto, cpu, gpu) resolves to CUDA GPUs on this machine."""
    return accelerator == "gpu" or (accelerator == "auto" and torch.cuda.is_available())


def cpu_supports_bf16() -> bool:
    """Whether this CPU computes in bfloat16 natively (AVX-512 BF16 or AMX on x86, BF16 on Arm)."""
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False


def gpu_supports_bf16() -> bool:
    """Whether the visible CUDA GPUs compute in bfloat16 (compute capability 8.0 or later)."""
    return torch.cuda.is_available() and torch.cuda.is_bf16_supported(including_emulation=False)


def check_hardware(cfg: TrainConfig, env: Mapping[str, str] | None = None) -> None:
    """Refuse hardware options this machine cannot honour, naming the option: a GPU run without a GPU, more
    devices than there are, fsdp or float16 on a CPU, bfloat16 where it is not supported, a launcher that
    started another number of processes than ``--devices x --num-nodes``."""
    env = os.environ if env is None else env
    if uses_gpu(cfg.accelerator):
        present = torch.cuda.device_count()
        if present == 0:
            raise MoodtuneError("--accelerator gpu: no CUDA GPU is visible here; use --accelerator cpu")
        if cfg.devices > present:
            raise MoodtuneError(f"--devices {cfg.devices}: only {present} GPU(s) are visible here")
        if cfg.precision == "bf16-mixed" and not gpu_supports_bf16():
            raise MoodtuneError(
                f"--precision bf16-mixed: {torch.cuda.get_device_name(0)} has no bfloat16 support (compute "
                "capability 8.0 or later needed); use --precision 16-mixed"
            )
    else:
        cores = os.cpu_count() or 1
        if cfg.devices > cores:
            raise MoodtuneError(
                f"--devices {cfg.devices}: a CPU run starts one process per device, and this machine has {cores} "
                "core(s)"
            )
        if cfg.strategy == "fsdp":
            raise MoodtuneError("--strategy fsdp shards weights over GPUs; on a CPU use --strategy ddp")
        if cfg.precision == "16-mixed":
            raise MoodtuneError("--precision 16-mixed needs a GPU; on a CPU use bf16-mixed (where supported) or 32")
        if cfg.precision == "bf16-mixed" and not cpu_supports_bf16():
            raise MoodtuneError(
                "--precision bf16-mixed: this CPU has no bfloat16 support (AVX-512 BF16 or AMX); use --precision 32"
            )
    started = env.get("WORLD_SIZE", "").strip()
    if started.isdigit() and int(started) != world_size(cfg):
        raise MoodtuneError(
            f"the launcher started {started} processes, but --devices {cfg.devices} x --num-nodes {cfg.num_nodes} "
            f"is {world_size(cfg)}; make them agree (see docs/scaling.md)"
        )
