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


def is_primary(env: Mapping[str, str] | None = None, world: int = 2) -> bool:
    """Whether this process is global rank 0, judged from the launcher's variables before Lightning has
    started (a process no launcher started is rank 0; a run of ``world`` 1 process is always its own rank 0,
    whatever a shell left in its environment). After fitting, ``trainer.is_global_zero`` says the same."""
    if world == 1:
        return True
    env = os.environ if env is None else env
    for name in RANK_VARIABLES:
        value = env.get(name, "").strip()
        if value and value != "0":
            return False
    return True


def writes_run(cfg: TrainConfig) -> bool:
    """Whether this process writes ``cfg``'s run (and the files it shares with other runs)."""
    return is_primary(world=world_size(cfg))


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


def cpu_cores() -> int:
    """CPU cores this process may run on (its affinity: a cluster's allocation, not the whole machine)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def check_hardware(cfg: TrainConfig, env: Mapping[str, str] | None = None) -> None:
    """Refuse hardware options this machine cannot honour, naming the option: a GPU run without a GPU, more
    devices than there are, fsdp or float16 on a CPU, bfloat16 where it is not supported, fsdp for an engine
    that cannot use it, a launcher that started another number of processes than ``--devices x --num-nodes``,
    or several machines with nothing to start the other machines' processes."""
    env = os.environ if env is None else env
    if uses_gpu(cfg.accelerator):
        _check_gpu(cfg)
    else:
        _check_cpu(cfg)
    if cfg.strategy == "fsdp" and cfg.engine in FSDP_UNSUITED:
        raise MoodtuneError(f"--strategy fsdp: the {cfg.engine} engine {FSDP_UNSUITED[cfg.engine]}; use --strategy ddp")
    _check_launcher(cfg, env)


#: Engines that cannot train under FSDP, and why.
FSDP_UNSUITED = {"sequence": "clips its gradients by norm, which FSDP's precision plugin refuses"}


def _check_gpu(cfg: TrainConfig) -> None:
    present = torch.cuda.device_count()
    if present == 0:
        if cfg.accelerator == "gpu" and torch.backends.mps.is_available():
            return  # Apple silicon: Lightning trains on its one MPS device
        raise MoodtuneError("--accelerator gpu: no CUDA GPU is visible here; use --accelerator cpu")
    if cfg.devices > present:
        raise MoodtuneError(f"--devices {cfg.devices}: only {present} GPU(s) are visible here")
    if cfg.precision == "bf16-mixed" and not gpu_supports_bf16():
        raise MoodtuneError(
            f"--precision bf16-mixed: {torch.cuda.get_device_name(0)} has no bfloat16 support (compute "
            "capability 8.0 or later needed); use --precision 16-mixed"
        )


def _check_cpu(cfg: TrainConfig) -> None:
    cores = cpu_cores()
    if cfg.devices > cores:
        raise MoodtuneError(
            f"--devices {cfg.devices}: a CPU run starts one process per device, and this process may use {cores} "
            "core(s)"
        )
    if cfg.strategy == "fsdp":
        raise MoodtuneError("--strategy fsdp shards weights over GPUs; on a CPU use --strategy ddp")
    if cfg.precision == "16-mixed":
        raise MoodtuneError("--precision 16-mixed needs a GPU; on a CPU use bf16-mixed (where supported) or 32")
    if cfg.precision == "bf16-mixed" and not cpu_supports_bf16():
        raise MoodtuneError("--precision bf16-mixed: this CPU has no bfloat16 support; use --precision 32")


def _check_launcher(cfg: TrainConfig, env: Mapping[str, str]) -> None:
    world = world_size(cfg)
    shape = f"--devices {cfg.devices} x --num-nodes {cfg.num_nodes} is {world}"
    if "TORCHELASTIC_RUN_ID" in env:  # torchrun
        started, per_node = env.get("WORLD_SIZE", ""), env.get("LOCAL_WORLD_SIZE", "")
        if started.isdigit() and int(started) != world:
            raise MoodtuneError(f"torchrun started {started} processes, but {shape}; make them agree")
        if per_node.isdigit() and int(per_node) != cfg.devices:
            raise MoodtuneError(f"torchrun --nproc-per-node is {per_node}, but --devices is {cfg.devices}")
    elif "SLURM_NTASKS" in env and env.get("SLURM_JOB_NAME") not in ("bash", "interactive"):
        tasks = env["SLURM_NTASKS"].strip()
        if tasks.isdigit() and int(tasks) != world:
            raise MoodtuneError(
                f"SLURM started {tasks} task(s), but {shape}: use --ntasks-per-node={cfg.devices} and "
                f"--nodes={cfg.num_nodes} (docs/scaling.md)"
            )
    elif cfg.num_nodes > 1 and "MASTER_ADDR" not in env:
        raise MoodtuneError(
            f"--num-nodes {cfg.num_nodes}: nothing starts the other machines' processes; launch with torchrun or "
            "srun (docs/scaling.md)"
        )
