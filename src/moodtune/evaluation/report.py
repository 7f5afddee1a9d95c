"""``moodtune evaluate``: mood control, FAD, diversity, reconstruction and symbolic metrics, with baselines."""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from moodtune.data.manifest import read_audio_manifest
from moodtune.engines.base import Engine, EngineOptions, Reconstructs, Request, load_engine
from moodtune.engines.symbolic import SymbolicEngine, SymbolicOptions
from moodtune.errors import MoodtuneError
from moodtune.evaluation.diversity import COLLAPSE_RATIO, within_group_distance
from moodtune.evaluation.fad import Embedding, frechet_audio_distance, make_embedding
from moodtune.evaluation.mood_control import control_scores, pearson
from moodtune.evaluation.mood_model import MoodModel
from moodtune.evaluation.mood_training import MoodTrainConfig, train_mood
from moodtune.evaluation.musicality import MUSICALITY, set_musicality, shuffled_in_time
from moodtune.evaluation.plain_features import arousal_order_holds, per_mood_medians
from moodtune.evaluation.sets import (
    SampleSet,
    generated_set,
    pick_rows,
    random_notes_set,
    real_pieces,
    real_set,
    shaped_noise_set,
)
from moodtune.evaluation.symbolic_metrics import METRICS, distribution_overlap, read_piece, set_metrics
from moodtune.fsutil import clean_stale_temps, write_json_atomic, write_text_atomic
from moodtune.midi.render import FluidSynthRenderer
from moodtune.mood import Trajectory
from moodtune.training.heldout import read_clips, reconstruction_scores
from moodtune.viz.plots import plot_distributions, plot_mood_curve, plot_mood_scatter

MOOD_MODEL_DIR = "mood-model"


@dataclass
class EvaluateConfig:
    """What ``moodtune evaluate`` measures and where it writes."""

    checkpoint: str
    data: str
    out: str
    n: int = 64
    seconds: float = 8.0
    mood_model: str | None = None
    trajectory: str = "sad:0,happy:30"
    seed: int = 0
    trajectory_seeds: int = 5
    clap: str | None = None
    guidance: float | None = None
    top_p: float | None = None
    musicality_seconds: float = 30.0
    plan: bool = True

    def __post_init__(self) -> None:
        if not (math.isfinite(self.musicality_seconds) and self.musicality_seconds > 0):
            raise MoodtuneError(
                f"--musicality-seconds must be a positive number of seconds, got {self.musicality_seconds}"
            )
        if self.guidance is not None or self.top_p is not None:  # refused before any model loads
            SymbolicOptions(guidance=self.guidance, top_p=self.top_p)


def sampling_options(engine: Engine, cfg: EvaluateConfig) -> EngineOptions | None:
    """The engine options every sample is asked with: the symbolic engine's guidance and nucleus when given."""
    if cfg.guidance is None and cfg.top_p is None and cfg.plan:
        return None
    if not isinstance(engine, SymbolicEngine):
        flag = "--guidance" if cfg.guidance is not None else "--top-p" if cfg.top_p is not None else "--no-plan"
        raise MoodtuneError(f"{flag} applies to symbolic models; {cfg.checkpoint} is a {engine.name} model")
    return SymbolicOptions(guidance=cfg.guidance, top_p=cfg.top_p, plan=cfg.plan)


def effective_sampling(engine: Engine, options: EngineOptions | None) -> dict[str, float]:
    """What the samples were drawn with, given or the engine's defaults: the symbolic engine's mood guidance and
    nucleus (nothing for the other engines)."""
    if not isinstance(engine, SymbolicEngine):
        return {}
    opts = options if isinstance(options, SymbolicOptions) else SymbolicOptions()
    return {"guidance": engine.guidance(opts), "top_p": engine.top_p(opts), "plan": opts.plan}


def mood_model_for(data: str, path: str | None, progress: bool, say: Callable[[str], None]) -> MoodModel:
    """The mood model at ``path``, else the one in ``DATA/mood-model`` (trained there first if missing)."""
    if path is not None:
        return MoodModel.from_checkpoint(path)
    default = Path(data) / MOOD_MODEL_DIR
    if not (default / "model.safetensors").is_file():
        say(f"no mood model given: training one on the real clips of {data} into {default}")
        train_mood(MoodTrainConfig(data=data, out=str(default)), progress=progress)
    return MoodModel.from_checkpoint(default)


def _clip_vectors(frames: list[np.ndarray]) -> np.ndarray:
    return np.stack([f.mean(0) for f in frames])


def _finite(x: float) -> float | None:
    return None if x is None or not math.isfinite(x) else round(float(x), 4)


def embed_set(s: SampleSet, embeddings: dict[str, Embedding]) -> dict[str, list[np.ndarray]]:
    """``embedding name -> frame embeddings [frames, D] per clip`` of a set."""
    return {name: [e.embed(a, s.sr) for a in s.audio] for name, e in embeddings.items()}


def score_set(
    s: SampleSet,
    frames: dict[str, list[np.ndarray]],
    mood: MoodModel,
    reference: dict[str, list[np.ndarray]],
    real_spread: dict[str, float],
    train_metrics: dict[str, list[float]] | None,
) -> tuple[dict[str, Any], np.ndarray, dict[str, list[float]] | None]:
    """Metrics of one set (with its ``frames`` from :func:`embed_set`): mood control, FAD per embedding,
    diversity, symbolic overlap; also returns the measured moods ``[N, 2]`` and the per-piece symbolic metrics."""
    measured = np.stack([mood.predict(a, s.sr) for a in s.audio])
    row: dict[str, Any] = {"set": s.name, "clips": len(s), **control_scores(measured, s.asked)}
    if s.failed:
        row["failed"] = s.failed
    for name, clips in frames.items():
        row[f"fad_{name}"] = round(frechet_audio_distance(np.concatenate(clips), np.concatenate(reference[name])), 4)
        if name == "mfcc":
            scale = _clip_vectors(reference[name]).std(0)
            spread = within_group_distance(_clip_vectors(clips), s.groups, scale)
            row["diversity"] = _finite(spread)
            row["diversity_vs_real"] = _finite(spread / real_spread[name]) if real_spread.get(name) else None
    metrics = None
    if train_metrics is not None and s.pieces:
        metrics = set_metrics(s.pieces)
        overlaps = {m: distribution_overlap(metrics[m], train_metrics[m]) for m in METRICS}
        for m, o in overlaps.items():
            row[f"{m}_mean"] = _finite(float(np.nanmean(metrics[m])) if np.isfinite(metrics[m]).any() else math.nan)
            row[f"{m}_overlap"] = o["overlap"]
        row["symbolic_overlap_mean"] = _finite(float(np.nanmean([o["overlap"] for o in overlaps.values()])))
    return row, measured, metrics


def musicality_report(
    engine: Engine,
    manifest: pd.DataFrame,
    cfg: EvaluateConfig,
    options: EngineOptions | None,
    progress: bool,
    out: Path,
) -> dict[str, Any]:
    """Musicality (:mod:`moodtune.evaluation.musicality`) of ``cfg.n`` generated pieces of
    ``cfg.musicality_seconds`` (the four quadrant moods in turn) beside as many real held-out renderings cut to
    that length and the same real pieces with their notes shuffled in time; the mean of each measure per set and
    its ratio to the real pieces', and per-piece histograms in ``musicality.png``."""
    seconds = cfg.musicality_seconds
    generated = generated_set(engine, cfg.n, seconds, cfg.seed, progress, options=options)
    real = real_pieces(manifest, "test", cfg.n, seconds)
    if not real:
        raise MoodtuneError(f"{cfg.data}: no MIDI renderings in the test split to measure musicality against")
    rng = np.random.default_rng(cfg.seed)
    sets = {
        f"{engine.name}: generated": generated.pieces,
        "real held-out": real,
        "trivial: real notes shuffled in time": [shuffled_in_time(p, rng) for p in real],
    }
    per_set = {name: set_musicality(pieces) for name, pieces in sets.items()}
    means = {
        name: {m: float(np.nanmean(v[m])) if np.isfinite(v[m]).any() else math.nan for m in MUSICALITY}
        for name, v in per_set.items()
    }
    rows = []
    for name, pieces in sets.items():
        row: dict[str, Any] = {"set": name, "pieces": len(pieces)}
        for m in MUSICALITY:
            real_mean = means["real held-out"][m]
            row[m] = _finite(means[name][m])
            row[f"{m}_vs_real"] = _finite(means[name][m] / real_mean) if real_mean else None
        rows.append(row)
    plot_distributions(per_set, out / "musicality.png", f"{engine.name}: musicality per piece ({seconds:g} s)")
    return {"seconds": seconds, "rows": rows}


def reconstruction_rows(engine: Engine, rows: pd.DataFrame, seconds: float) -> list[dict[str, Any]]:
    """Held-out reconstruction through the engine (and its vocoder or codec alone) with the evaluator training
    uses (:mod:`moodtune.training.heldout`): clips scored at 22 050 Hz, so engines at lower rates pay for the
    bandwidth they cannot represent. Empty for engines that do not reconstruct."""
    if not isinstance(engine, Reconstructs):
        return []
    clips = read_clips(rows, list(getattr(engine, "styles", [])), len(rows), seconds)
    if not clips:
        return []
    scores, _ = reconstruction_scores(engine, clips)
    names = {"model": "model (encode -> decode)", "vocoder": "vocoder only (real mel -> audio)"}
    return [
        {
            "set": names.get(key, f"{key} only"),
            "clips": len(clips),
            "lsd_db": round(s["lsd_db"], 3),
            "mrstft_sc": round(s["mrstft_sc"], 4),
            "mrstft_logmag": round(s["mrstft_logmag"], 4),
        }
        for key, s in scores.items()
    ]


def trajectory_following(
    engine: Engine, mood: MoodModel, text: str, seeds: list[int], out: Path, options: EngineOptions | None = None
) -> dict[str, Any]:
    """Generate along a mood curve once per seed, measure the curve every second and compare: Pearson r and
    mean absolute error per dimension, averaged over the seeds (the r of every seed is kept too). The curve
    of the first seed is plotted and stored."""
    traj = Trajectory.parse(text)
    seconds = max(traj.duration, 8.0)
    per_seed, curve = [], None
    for seed in seeds:
        result = engine.generate(Request(trajectory=traj, seconds=seconds, seed=seed, options=options))
        times, measured = mood.curve(result.audio, result.sr)
        asked = traj.at(times)
        per_seed.append(
            {
                "seed": seed,
                "valence_r": _finite(pearson(asked[:, 0], measured[:, 0])),
                "arousal_r": _finite(pearson(asked[:, 1], measured[:, 1])),
                "valence_mae": round(float(np.mean(np.abs(asked[:, 0] - measured[:, 0]))), 4),
                "arousal_mae": round(float(np.mean(np.abs(asked[:, 1] - measured[:, 1]))), 4),
            }
        )
        if curve is None:
            title = f"{engine.name}: asked vs measured ({text}, seed {seed})"
            plot_mood_curve(times, measured, out / "trajectory.png", title, asked)
            curve = {
                "time": times.round(2).tolist(),
                "asked": asked.round(3).tolist(),
                "measured": measured.round(3).tolist(),
            }
    means = {}
    for key in ("valence_r", "arousal_r", "valence_mae", "arousal_mae"):
        values = [s[key] for s in per_seed if s[key] is not None]
        means[key] = round(float(np.mean(values)), 4) if values else None
    return {"trajectory": text, "seconds": seconds, "seeds": len(seeds), **means, "per_seed": per_seed, "curve": curve}


def evaluate(cfg: EvaluateConfig, progress: bool = True, say: Callable[[str], None] = print) -> dict[str, Any]:
    """Run the whole evaluation; writes ``report.json``, ``report.md`` and plots into ``cfg.out``."""
    t0 = time.perf_counter()
    out = Path(cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    clean_stale_temps(out)
    engine = load_engine(cfg.checkpoint)
    manifest = read_audio_manifest(cfg.data, "the evaluation (its mood model and real-clip baselines)")
    mood = mood_model_for(cfg.data, cfg.mood_model, progress, say)
    embeddings = {"mfcc": make_embedding("mfcc"), "mood": make_embedding("mood", mood)}
    if cfg.clap:
        embeddings["clap"] = make_embedding("clap", path=cfg.clap)

    say(f"generating {cfg.n} samples of {cfg.seconds:g} s with the {engine.name} engine")
    options = sampling_options(engine, cfg)
    generated = generated_set(engine, cfg.n, cfg.seconds, cfg.seed, progress, options=options)
    if len(generated) < 2:
        raise MoodtuneError(f"{cfg.checkpoint}: only {len(generated)} of {cfg.n} samples could be generated")
    sr = generated.sr
    say("loading real held-out clips (test split; FAD reference: val split)")
    real = real_set(pick_rows(manifest, "test", cfg.n), cfg.seconds, sr)
    reference = real_set(pick_rows(manifest, "val", 4 * cfg.n), cfg.seconds, sr, "reference")
    ref_frames = embed_set(reference, embeddings)
    real_frames = embed_set(real, embeddings)
    real_spread = {
        "mfcc": within_group_distance(
            _clip_vectors(real_frames["mfcc"]), real.groups, _clip_vectors(ref_frames["mfcc"]).std(0)
        )
    }
    train_metrics, musicality = None, None
    if engine.name == "symbolic":
        train_rows = pick_rows(manifest, "train", 4 * cfg.n)
        if "midi_path" not in train_rows:
            raise MoodtuneError(f"{cfg.data}: the symbolic metrics need a dataset that keeps MIDI (builtin, midi)")
        train_metrics = set_metrics(
            [
                read_piece(r["midi_path"], r["start_s"], min(r["end_s"], r["start_s"] + cfg.seconds))
                for _, r in train_rows.iterrows()
            ]
        )
        with FluidSynthRenderer(None, sr) as renderer:
            trivial = random_notes_set(generated, real.pieces, cfg.seconds, renderer.render, sr, cfg.seed)
    else:
        say("building the trivial baseline (noise shaped like music)")
        trivial = shaped_noise_set(generated, reference, cfg.seed)

    rows, per_piece = [], {}
    for s in (generated, real, trivial):
        say(f"scoring {s.name}")
        frames = real_frames if s is real else embed_set(s, embeddings)
        row, measured, per_piece[s.name] = score_set(s, frames, mood, ref_frames, real_spread, train_metrics)
        row["set"] = f"{engine.name}: generated" if s is generated else s.name
        rows.append(row)
        plot_mood_scatter(s.asked, measured, out / f"mood_{_slug(s.name)}.png", f"{row['set']}: asked vs measured")
    collapse = rows[0].get("diversity_vs_real")
    warnings = []
    if collapse is not None and collapse < COLLAPSE_RATIO:
        warnings.append(
            f"possible mode collapse: samples asked for the same mood are {collapse:.2f}x as spread as real clips"
        )
    if train_metrics is not None:
        groups = {"training data": train_metrics, **{k: v for k, v in per_piece.items() if v is not None}}
        plot_distributions(groups, out / "symbolic_metrics.png", f"{engine.name}: symbolic metrics per piece")
        say(f"musicality of {cfg.n} pieces of {cfg.musicality_seconds:g} s beside real held-out pieces")
        musicality = musicality_report(engine, manifest, cfg, options, progress, out)

    say("reconstruction of held-out clips and the mood trajectory")
    recon = reconstruction_rows(engine, pick_rows(manifest, "test", min(cfg.n, 32)), cfg.seconds)
    seeds = list(range(cfg.seed, cfg.seed + cfg.trajectory_seeds))
    trajectory = trajectory_following(engine, mood, cfg.trajectory, seeds, out, options)
    features = per_mood_medians(generated.audio, generated.sr, generated.groups)
    report = {
        "checkpoint": str(cfg.checkpoint),
        "engine": engine.name,
        "data": str(cfg.data),
        "config": asdict(cfg),
        "sampling": effective_sampling(engine, options),
        "mood_model": {"path": str(mood.path), **{k: v for k, v in mood.results.items() if k.startswith("test_")}},
        "rows": rows,
        "reconstruction": recon,
        "musicality": musicality,
        "trajectory": trajectory,
        "plain_features": {
            "per_mood": features,
            "onset_rate_follows_arousal": arousal_order_holds(features, "onsets_per_s"),
            "rms_follows_arousal": arousal_order_holds(features, "rms"),
        },
        "warnings": warnings,
        "seconds_taken": round(time.perf_counter() - t0, 1),
    }
    write_json_atomic(out / "report.json", report)
    write_text_atomic(out / "report.md", render_markdown(report))
    return report


def _yes_no(flag: bool | None) -> str:
    return "n/a" if flag is None else ("yes" if flag else "no")


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name).strip("_")


def _table(rows: list[dict[str, Any]], columns: list[tuple[str, str]]) -> str:
    head = "| " + " | ".join(title for _, title in columns) + " |"
    rule = "|" + "|".join("---" for _ in columns) + "|"
    body = [
        "| " + " | ".join("–" if r.get(key) is None else str(r.get(key)) for key, _ in columns) + " |" for r in rows
    ]
    return "\n".join([head, rule, *body])


def sampling_sentence(sampling: dict[str, float]) -> str:
    """`` Sampled with mood guidance 4, nucleus (top-p) 0.95.`` for a report's ``sampling`` (empty: nothing)."""
    parts = [f"mood guidance {sampling['guidance']:g}"] if "guidance" in sampling else []
    parts += [f"nucleus (top-p) {sampling['top_p']:g}"] if "top_p" in sampling else []
    parts += ["without a plan of chords and phrases"] if sampling.get("plan") is False else []
    return f" Sampled with {', '.join(parts)}." if parts else ""


def render_markdown(report: dict[str, Any]) -> str:
    """The human-readable report."""
    mm = report["mood_model"]
    lines = [
        f"# Evaluation of `{report['checkpoint']}` ({report['engine']} engine)",
        "",
        f"Data: `{report['data']}`; {report['config']['n']} samples of {report['config']['seconds']:g} s asked for "
        "happy / angry / sad / calm in turn. Mood measured by the independent mood model "
        f"`{mm['path']}` (test R^2 valence {mm.get('test_valence_r2')}, arousal {mm.get('test_arousal_r2')}). "
        "FAD against the val split; the real row is the test split scored against its own labels."
        + sampling_sentence(report.get("sampling") or {}),
        "",
        "## Mood control, FAD, diversity",
        "",
        _table(
            report["rows"],
            [
                ("set", "set"),
                ("clips", "clips"),
                ("valence_mae", "valence MAE"),
                ("arousal_mae", "arousal MAE"),
                ("valence_r", "valence r"),
                ("arousal_r", "arousal r"),
                ("quadrant_accuracy", "quadrant acc."),
                ("fad_mfcc", "FAD (mfcc)"),
                ("fad_mood", "FAD (mood)"),
                *([("fad_clap", "FAD (clap)")] if report["config"].get("clap") else []),
                ("diversity_vs_real", "diversity / real"),
            ],
        ),
    ]
    if any("symbolic_overlap_mean" in r for r in report["rows"]):
        cols = [("set", "set")] + [(f"{m}_overlap", m.replace("_", " ")) for m in METRICS]
        cols.append(("symbolic_overlap_mean", "mean"))
        means = [("set", "set")] + [(f"{m}_mean", m.replace("_", " ")) for m in METRICS]
        lines += [
            "",
            "## Symbolic metrics: overlap of per-piece distributions with the training data (1 = same)",
            "",
            _table(report["rows"], cols),
            "",
            "Means per piece:",
            "",
            _table(report["rows"], means),
        ]
    if report.get("musicality"):
        mus = report["musicality"]
        names = {
            "topline_stepwise": "top-line stepwise",
            "bar_recurrence": "bar recurrence",
            "chord_clarity": "chord clarity",
            "cadence_rate": "cadences",
        }
        lines += [
            "",
            f"## Musicality ({mus['seconds']:g} s pieces; ratio to the real pieces in brackets)",
            "",
            "Definitions: docs/evaluation.md. Plot: musicality.png.",
            "",
            _table(
                [
                    {
                        "set": r["set"],
                        "pieces": r["pieces"],
                        **{m: None if r[m] is None else f"{r[m]} ({r[f'{m}_vs_real']})" for m in MUSICALITY},
                    }
                    for r in mus["rows"]
                ],
                [("set", "set"), ("pieces", "pieces"), *[(m, names[m]) for m in MUSICALITY]],
            ),
        ]
    if report["reconstruction"]:
        lines += [
            "",
            "## Reconstruction of held-out clips",
            "",
            "Scored at 22 050 Hz against the original clips (an engine at a lower rate also loses the bandwidth "
            "above its Nyquist frequency).",
            "",
            _table(
                report["reconstruction"],
                [
                    ("set", "set"),
                    ("clips", "clips"),
                    ("lsd_db", "LSD (dB)"),
                    ("mrstft_sc", "MR-STFT spectral conv."),
                    ("mrstft_logmag", "MR-STFT log-mag L1"),
                ],
            ),
        ]
    t = report["trajectory"]
    lines += [
        "",
        f"## Trajectory `{t['trajectory']}` ({t['seconds']:g} s, {t['seeds']} seeds)",
        "",
        f"Correlation over time between asked and measured, mean over seeds: valence r = {t['valence_r']}, "
        f"arousal r = {t['arousal_r']}; mean absolute error valence {t['valence_mae']}, arousal "
        f"{t['arousal_mae']}. Per seed (valence r, arousal r): "
        + ", ".join(f"{s['seed']}: {s['valence_r']}, {s['arousal_r']}" for s in t["per_seed"])
        + ". Plot (first seed): trajectory.png.",
    ]
    p = report["plain_features"]
    lines += [
        "",
        "## Plain features of the generated samples (median per asked mood)",
        "",
        "| asked mood | onsets / s | RMS | samples |",
        "|---|---|---|---|",
        *[f"| {m} | {f['onsets_per_s']} | {f['rms']} | {f['n']} |" for m, f in p["per_mood"].items()],
        "",
        f"Higher for happy and angry than for sad and calm: onset rate {_yes_no(p['onset_rate_follows_arousal'])}, "
        f"RMS {_yes_no(p['rms_follows_arousal'])}.",
    ]
    if report["warnings"]:
        lines += ["", "## Warnings", "", *[f"- {w}" for w in report["warnings"]]]
    lines += ["", f"Took {report['seconds_taken']} s.", ""]
    return "\n".join(lines)
