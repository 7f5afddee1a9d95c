"""Train, evaluate and package the shipped models (``make models``).

Every step is an ordinary ``moodtune`` command, run in order and printed; its exact text goes into the
model's card. A step whose output exists is skipped, so an interrupted run resumes where it stopped:

1. ``moodtune prepare builtin`` (the built-in corpus) into ``WORK/data``, and its MIDI-only form (every piece)
   into ``WORK/data-midi`` for the symbolic engine;
2. ``moodtune train mood`` (the judge) and ``moodtune train ENGINE`` for every engine, within its budget;
3. ``moodtune evaluate --n 64`` of every engine against the real held-out clips and the trivial baseline;
4. packaging: each run is copied into ``src/moodtune/pretrained/NAME/`` in float16 (the sequence and latent
   engines without the spectrogram VAE they embed, which they take from the shipped one), with
   ``card.json`` beside it; ``index.json`` names the default engine (the best measured mood control), and
   ``docs/models.md`` is written from the cards.

``--retrain NAME`` deletes that model's run (and its evaluation) first, and those of the models built on it
(retraining the spectrogram VAE retrains the sequence and latent engines); say why in ``--reason``, which
the card keeps. Usage: ``python scripts/make_models.py [--work runs/models] [--retrain spectrogram]``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

from moodtune.data.manifest import data_fingerprint, read_summary
from moodtune.engines.base import Request, load_engine
from moodtune.engines.checkpoint import WEIGHTS_FILE, read_checkpoint_config, save_shipped
from moodtune.evaluation.mood_model import MoodModel
from moodtune.fsutil import write_json_atomic
from moodtune.mood import Mood
from moodtune.registry import FAMILIES
from moodtune.shipped import INDEX_FILE, MOOD_MODEL, SHIPPED_DIR
from moodtune.training.distributed import cpu_cores

ROOT = Path(__file__).resolve().parent.parent

#: Each engine's training options: a budget in minutes with room for many epochs, and the VAE it builds on.
TRAINING: dict[str, list[str]] = {
    "spectrogram": ["--epochs", "1000", "--max-minutes", "8", "--adversarial-minutes", "4"],
    "symbolic": [
        *("--tokens", "beats", "--mood-dropout", "0.1", "--mood-changes", "2", "--limit-train-batches", "500"),
        *("--seed", "1"),
        *("--epochs", "1000", "--max-minutes", "6"),
    ],
    "sequence": ["--vae", "{work}/spectrogram", "--epochs", "500", "--max-minutes", "4"],
    "waveform": ["--epochs", "1000", "--max-minutes", "8", "--limit-val-batches", "4"],
    "latent": ["--vae", "{work}/spectrogram", "--epochs", "1000", "--max-minutes", "4"],
}
#: The prepared folder each model trains on (under WORK), and the ``prepare builtin`` options that make it.
DATASETS: dict[str, list[str]] = {"data": [], "data-midi": ["--midi-only"]}
TRAINED_ON = {"symbolic": "data-midi"}
#: Engines that embed the shipped spectrogram VAE under a prefix, which the shipped copy leaves out.
WEIGHTS_FROM = {"sequence": {"vae.": "spectrogram"}, "latent": {"codec.": "spectrogram"}}
#: Models trained on another: retraining the key retrains these too (they must embed its new weights).
DEPENDENTS = {"spectrogram": ("sequence", "latent")}
SIZE_LIMIT_MB = 30
ORDER = ("spectrogram", "symbolic", "sequence", "waveform", "latent")

LIMITS_ALL = (
    "Trained on the built-in corpus only: 128 public-domain scores from music21's corpus (chorales, folk "
    "songs, madrigals, quartets, renaissance pieces), each rendered in four moods with a General MIDI "
    "soundfont. Its valence/arousal labels are cue formulas (mode, tempo, loudness, register, articulation), "
    "not human ratings, so 'happy' means the cues this corpus gives happy music. The mood model that measures "
    "it learned the same labels; its readings are a check of control over these cues, not of human perception."
)
LIMITS: dict[str, str] = {
    "spectrogram": "Sound is Griffin-Lim vocoded at 22.05 kHz: phasey, without sharp attacks.",
    "sequence": "Built on the shipped spectrogram VAE; shares its vocoder's sound.",
    "latent": "Built on the shipped spectrogram VAE as its codec; shares its vocoder's sound.",
    "waveform": (
        "Raw audio at 8 kHz. Its mood reads clearer than real music's because generation extrapolates the "
        "condition; its FAD against real clips is the highest of the engines (partly caricature)."
    ),
    "symbolic": "MIDI rendered with a General MIDI soundfont; one piano-like part.",
    MOOD_MODEL: "Reads descriptors of 4 s windows; trained on the built-in corpus's cue labels only.",
}


def say(text: str) -> None:
    print(f"[{datetime.now():%H:%M:%S}] {text}", flush=True)


def moodtune(args: list[str]) -> str:
    """Run ``moodtune ARGS`` with this interpreter; returns the command as a user would type it."""
    command = "moodtune " + " ".join(args)
    say(command)
    subprocess.run([sys.executable, "-m", "moodtune", *args], check=True, cwd=ROOT)
    return command


def commit() -> str | None:
    """The source commit the models are trained from (with ``+changes`` when the tree is not clean)."""
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
        dirty = subprocess.run(["git", "status", "--porcelain", "src"], capture_output=True, text=True, cwd=ROOT)
    except OSError:
        return None
    return head.stdout.strip() + ("+changes" if dirty.stdout.strip() else "") if head.returncode == 0 else None


def machine() -> dict[str, Any]:
    """The machine a model was trained on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    cores = cpu_cores()
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else None
    return {"cpu": cpu, "cores": cores, "gpu": gpu, "torch": torch.__version__, "python": platform.python_version()}


def train_step(work: Path, name: str, state: dict[str, Any]) -> None:
    """Train ``name`` into ``work/name`` unless it is there."""
    run = work / name
    if (run / WEIGHTS_FILE).is_file():
        say(f"{name}: trained before in {run}")
        return
    if run.exists():
        shutil.rmtree(run)  # an interrupted training: start it again
    data = str(work / TRAINED_ON.get(name, "data"))
    if name == MOOD_MODEL:
        args = ["train", "mood", "--data", data, "--out", str(run), "--quiet"]
    else:
        extra = [a.format(work=work) for a in TRAINING[name]]
        args = ["train", name, "--data", data, "--out", str(run), *extra, "--quiet"]
    started = time.time()
    state.setdefault(name, {})["command"] = moodtune(args)
    state[name]["wall_minutes"] = round((time.time() - started) / 60, 2)
    state[name]["trained"] = datetime.now(UTC).strftime("%Y-%m-%d")
    state[name]["commit"] = commit()


def evaluate_step(work: Path, name: str, state: dict[str, Any]) -> None:
    """``moodtune evaluate --n 64`` of ``name`` unless its report is there."""
    out = work / f"eval-{name}"
    if (out / "report.json").is_file():
        say(f"{name}: evaluated before in {out}")
        return
    args = ["evaluate", "--checkpoint", str(work / name), "--data", str(work / "data")]
    args += ["--mood-model", str(work / MOOD_MODEL), "--out", str(out), "--n", "64", "--quiet"]
    state.setdefault(name, {})["evaluate_command"] = moodtune(args)


def metrics_of(report: dict[str, Any]) -> dict[str, Any]:
    """The card's numbers from an evaluation report: the generated, real and trivial rows and the rest."""
    keep = ("quadrant_accuracy", "valence_r", "arousal_r", "diversity_vs_real", "fad_mood", "fad_mfcc")
    pick = {r["set"]: {m: r.get(m) for m in keep} for r in report["rows"]}
    trivial = next(k for k in pick if k.startswith("trivial"))
    out: dict[str, Any] = {
        "generated": next(v for k, v in pick.items() if k.endswith(": generated")),
        "real": pick["real held-out"],
        "trivial": {**pick[trivial], "name": trivial.removeprefix("trivial: ")},
        "warnings": report.get("warnings", []),
    }
    if report.get("trajectory"):
        t = report["trajectory"]
        out["trajectory"] = {k: t[k] for k in ("trajectory", "seeds", "valence_r", "arousal_r")}
    if report.get("reconstruction"):
        out["heldout_lsd_db"] = report["reconstruction"][0].get("lsd_db")
    plain = report.get("plain_features") or {}
    out["plain_features"] = {k: plain[k] for k in ("onset_rate_follows_arousal", "rms_follows_arousal") if k in plain}
    if "symbolic" in report:
        out["symbolic"] = report["symbolic"]
    return out


def half_precision_check(run: Path, shipped: Path, mood: MoodModel) -> dict[str, float]:
    """What float16 storage changes: the largest mood-model reading difference over 8 s of the four quadrant
    moods generated by the float32 run and the float16 copy (same seeds; the symbolic engine may then sample
    other notes, so its difference is that of another piece in the same mood)."""
    full, half = load_engine(run), load_engine(shipped)
    diffs = []
    for name in ("happy", "sad", "angry", "calm"):
        request = Request(mood=Mood.named(name), seconds=8.0, seed=0)
        a, b = full.generate(request), half.generate(request)
        diffs.append(np.abs(mood.predict(a.audio, a.sr) - mood.predict(b.audio, b.sr)).max())
    return {"max_mood_reading_change": round(float(max(diffs)), 4)}


def export_example(data: Path, shipped: Path) -> dict[str, Any]:
    """The first held-out (test split) clip, as FLAC in the package: the demo continues and varies it."""
    from moodtune.audio.io import load_audio
    from moodtune.data.manifest import read_manifest

    clip = read_manifest(data).query("split == 'test'").iloc[0]
    sr = int(clip["sr"])
    audio, _ = load_audio(clip["path"], sr=sr, start_s=float(clip["start_s"]), end_s=float(clip["end_s"]))
    dest = shipped / "examples" / "heldout.flac"
    dest.parent.mkdir(parents=True, exist_ok=True)
    sf.write(dest, audio, sr, format="FLAC")
    return {
        "file": "examples/heldout.flac",
        "clip": str(clip["clip_id"]),
        "valence": round(float(clip["valence"]), 3),
        "arousal": round(float(clip["arousal"]), 3),
        "style": str(clip["style"]),
    }


def data_card(work: Path, folder: str) -> dict[str, Any]:
    """What a card says of the prepared folder ``WORK/folder`` its model trained on."""
    data = work / folder
    summary = read_summary(data)
    return {
        "dataset": summary.get("dataset"),
        "fingerprint": data_fingerprint(data),
        "clips": summary.get("clips"),
        "tracks": summary.get("tracks"),
        "midi_only": bool(summary.get("midi_only")),
        "command": " ".join(["moodtune prepare builtin", *DATASETS[folder], "--out", str(data)]),
    }


def package(work: Path, state: dict[str, Any], reasons: dict[str, str]) -> None:
    """Copy every run into the package in float16, write the cards, the index and docs/models.md. Everything is
    written into a staging folder first and swapped in at the end, so a failure leaves the old models whole."""
    staging = SHIPPED_DIR.with_name("pretrained.staging")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir()
    mood = MoodModel.from_checkpoint(work / MOOD_MODEL)
    data = work / "data"
    index: dict[str, Any] = {"models": {}}
    old_cards = {p.parent.name: json.loads(p.read_text()) for p in SHIPPED_DIR.glob("*/card.json")}
    for name in (MOOD_MODEL, *ORDER):
        run = work / name
        dest = staging / name

        def recorded(key: str, name: str = name) -> Any:
            """What this run recorded (``state``), else what the card shipped before said."""
            return state.get(name, {}).get(key) or old_cards.get(name, {}).get(key)

        save_shipped(run, dest, WEIGHTS_FROM.get(name))
        config = read_checkpoint_config(run)
        card: dict[str, Any] = {
            "name": name,
            "engine": config["engine"],
            "summary": FAMILIES[name].summary if name in FAMILIES else "valence/arousal regressor (the judge)",
            "command": recorded("command"),
            "config": config.get("train", {}),
            "data": data_card(work, TRAINED_ON.get(name, "data")),
            "results": config.get("results", {}),
            "trained": recorded("trained"),
            "commit": recorded("commit"),
            "machine": state.get("machine"),
            "weights_mb": round(sum(f.stat().st_size for f in dest.iterdir()) / 1e6, 2),
            "weights_sha256": hashlib.sha256((dest / WEIGHTS_FILE).read_bytes()).hexdigest(),
            "limits": f"{LIMITS_ALL} {LIMITS.get(name, '')}".strip(),
            "reason": reasons.get(name) or recorded("reason") or "first release",
        }
        if name in WEIGHTS_FROM:
            card["weights_from"] = WEIGHTS_FROM[name]
        if name != MOOD_MODEL:
            report = json.loads((work / f"eval-{name}" / "report.json").read_text())
            card["evaluate_command"] = recorded("evaluate_command")
            card["metrics"] = metrics_of(report)
            card["float16"] = half_precision_check(run, dest, mood)
        else:
            card["metrics"] = {k: v for k, v in config.get("results", {}).items() if k.startswith("test_")}
        write_json_atomic(dest / "card.json", card)
        index["models"][name] = {
            "engine": card["engine"],
            "summary": card["summary"],
            "metrics": (card["metrics"].get("generated") if name != MOOD_MODEL else card["metrics"]),
        }
        say(f"{name}: packaged into {dest} ({card['weights_mb']} MB)")
    index["example"] = export_example(data, staging)
    engines = [n for n in ORDER if index["models"][n]["metrics"]]
    index["default"] = max(
        engines,
        key=lambda n: (index["models"][n]["metrics"]["quadrant_accuracy"], index["models"][n]["metrics"]["arousal_r"]),
    )
    write_json_atomic(staging / INDEX_FILE, index)
    total = sum(f.stat().st_size for f in staging.rglob("*") if f.is_file()) / 1e6
    if total > SIZE_LIMIT_MB:
        raise SystemExit(f"the shipped models would take {total:.1f} MB, over the {SIZE_LIMIT_MB} MB limit")
    old = SHIPPED_DIR.with_name("pretrained.old")
    shutil.rmtree(old, ignore_errors=True)
    if SHIPPED_DIR.exists():
        SHIPPED_DIR.rename(old)
    staging.rename(SHIPPED_DIR)
    shutil.rmtree(old, ignore_errors=True)
    from moodtune.cards import write_models_doc

    write_models_doc(SHIPPED_DIR, ROOT / "docs" / "models.md")
    say(f"shipped models: {total:.1f} MB in {SHIPPED_DIR}; default engine {index['default']}; docs/models.md written")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--work", default="runs/models", help="folder for the corpus, runs and evaluations")
    p.add_argument("--retrain", action="append", default=[], help="train this model again (repeatable)")
    p.add_argument("--reason", default=None, help="why the --retrain models are trained again (kept in the card)")
    args = p.parse_args()
    work = Path(args.work)
    state_file = work / "make-models.json"
    state = json.loads(state_file.read_text()) if state_file.is_file() else {}
    state.setdefault("machine", machine())
    retrain = list(dict.fromkeys(n for name in args.retrain for n in (name, *DEPENDENTS.get(name, ()))))
    for name in retrain:
        if name not in (MOOD_MODEL, *ORDER):
            p.error(f"--retrain {name}: choose one of {', '.join((MOOD_MODEL, *ORDER))}")
        if not args.reason:
            p.error("--retrain needs --reason: the card says why its weights changed")
        for folder in (work / name, work / f"eval-{name}"):
            shutil.rmtree(folder, ignore_errors=True)
    for folder, options in DATASETS.items():
        if not (work / folder / "manifest.parquet").is_file():
            moodtune(["prepare", "builtin", *options, "--out", str(work / folder), "--quiet"])
    for name in (MOOD_MODEL, *ORDER):
        train_step(work, name, state)
        write_json_atomic(state_file, state)
    for name in ORDER:
        evaluate_step(work, name, state)
        write_json_atomic(state_file, state)
    package(work, state, dict.fromkeys(retrain, args.reason))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
