"""Memory as the data grows: peak resident memory of ``moodtune train spectrogram`` on prepared folders 1x and
10x the size of the builtin corpus (the 10x folder repeats the training clips under new names, with their cache
entries copied, so the data on disk really grows).

Training reads cached log-mels lazily, so the peak should stay flat; the whole command is measured (fitting,
then the latent prior, held-out scores and plots). Run alone: ``python benchmarks/scaling.py --base runs/data``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

from moodtune.data.cache import FeatureCache, LogMelFeature
from moodtune.data.manifest import read_manifest, read_summary, write_manifest, write_summary
from moodtune.data.prepare import prepare

TRAIN_OPTIONS = ["--size", "small", "--epochs", "1", "--limit-train-batches", "40", "--limit-val-batches", "4"]


def grown_copy(base: Path, out: Path, factor: int) -> int:
    """A prepared folder with the training clips of ``base`` ``factor`` times (copies ``k > 0`` get new clip and
    track ids and their own copy of the cache entry); validation and test as in ``base``. Returns its clip count."""
    if out.exists():
        shutil.rmtree(out)
    manifest = read_manifest(base)
    feature = LogMelFeature()
    source, target = FeatureCache(base), FeatureCache(out)
    target.folder(feature).mkdir(parents=True)
    shutil.copyfile(source.folder(feature) / "params.json", target.folder(feature) / "params.json")
    rows = []
    for row in manifest.to_dict("records"):
        copies = factor if row["split"] == "train" else 1
        for k in range(copies):
            new = dict(row)
            if k:
                new["clip_id"], new["track_id"] = f"{row['clip_id']}~{k}", f"{row['track_id']}~{k}"
            shutil.copyfile(
                source.entry(feature, row["clip_id"], row["fingerprint"]),
                target.entry(feature, new["clip_id"], new["fingerprint"]),
            )
            rows.append(new)
    write_manifest(rows, out)
    summary = read_summary(base)
    summary["clips"] = len(rows)
    write_summary(summary, out)
    return len(rows)


#: Runs the CLI in this process and reports its own peak resident memory (``VmHWM`` starts afresh at exec;
#: ``ru_maxrss`` from ``wait4`` would carry over the benchmark process's own peak, which survives fork + exec).
_MEASURED = """
import sys
from pathlib import Path
from moodtune.cli import main
try:
    code = main(sys.argv[1:])
finally:
    hwm = [l for l in Path('/proc/self/status').read_text().splitlines() if l.startswith('VmHWM:')]
    print('peak_kb', hwm[0].split()[1], file=sys.stderr)
sys.exit(code)
"""


def train_peak_rss_mb(data: Path, run: Path, extra: list[str] | None = None) -> tuple[float, float]:
    """Peak resident memory (MB) and wall time (s) of one ``moodtune train spectrogram`` process."""
    if run.exists():
        shutil.rmtree(run)
    cmd = [sys.executable, "-c", _MEASURED, "train", "spectrogram", "--data", str(data), "--out", str(run)]
    cmd += ["--accelerator", "cpu", "--quiet", *TRAIN_OPTIONS, *(extra or [])]
    started = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"training on {data} failed: {proc.stderr[-2000:]}")
    peak_kb = next(line.split()[1] for line in proc.stderr.splitlines() if line.startswith("peak_kb"))
    return int(peak_kb) / 1024, seconds


def folder_mb(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def bench_data_scaling(base: Path | None, work: Path, factors: tuple[int, ...] = (1, 10)) -> list[tuple[str, str]]:
    """Rows for docs/benchmarks.md: per factor, the data size and the training command's peak memory."""
    work.mkdir(parents=True, exist_ok=True)
    if base is None:
        base = work / "builtin"
        prepare("builtin", None, base, progress=False)
    rows, peaks = [], []
    for factor in factors:
        data = work / f"data-{factor}x"
        clips = grown_copy(base, data, factor)
        peak, seconds = train_peak_rss_mb(data, work / f"run-{factor}x")
        peaks.append(peak)
        rows.append(
            (
                f"[cpu] spectrogram training (small, 40 batches + post-fit) on {factor}x the builtin data: {clips} "
                f"clips, {folder_mb(data / 'cache'):.0f} MB of log-mels",
                f"peak RSS **{peak:.0f} MB**, {seconds:.0f} s",
            )
        )
        shutil.rmtree(data)
    rows.append((f"peak RSS, {factors[-1]}x data / {factors[0]}x data", f"**{peaks[-1] / peaks[0]:.2f}**"))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", type=Path, help="a prepared builtin folder to grow (default: prepare one)")
    parser.add_argument("--work", type=Path, default=Path("runs/bench-scaling"), help="scratch folder")
    parser.add_argument("--factors", default="1,10", help="sizes to measure, as multiples of the base")
    args = parser.parse_args()
    factors = tuple(int(f) for f in args.factors.split(","))
    rows = bench_data_scaling(args.base, args.work, factors)
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
