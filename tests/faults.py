"""Bad inputs and faults a user meets, each run through the real CLI: what the reliability matrix of
docs/reliability.md lists (``python scripts/gen_reliability_doc.py`` writes it; ``tests/test_reliability.py`` runs
every case and checks that the page is current).

Every case builds its bad input in a fresh folder, runs ``moodtune ...`` in this process and records the exit code
and what was printed on stderr. The promise: exit code 2 and one line, ``moodtune: error: ...``, that names the
file or field and the problem.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import subprocess
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import numpy as np

from moodtune.cli import main
from moodtune.engines.checkpoint import CONFIG_FILE, WEIGHTS_FILE, file_sha256, load_checkpoint, save_checkpoint
from moodtune.shipped import shipped_path
from tests.conftest import music_like, write_audio
from tests.data.layouts import make_deam


@dataclass(frozen=True)
class Case:
    """One bad input: ``setup(folder)`` makes it and returns the command's arguments."""

    group: str
    name: str
    setup: Callable[[Path], list[str]]
    expect: str  # a phrase the error line must contain


@dataclass(frozen=True)
class Outcome:
    """What a case gave: the exit code and the lines on stderr (the folder written as ``TMP``)."""

    command: str
    code: int
    lines: tuple[str, ...]
    traceback: bool

    @property
    def kept(self) -> bool:
        """The promise: exit 2, one error line, no traceback."""
        return self.code == 2 and len(self.lines) == 1 and self.lines[0].startswith("moodtune: error: ")


# ---------- inputs ----------


def run_copy(folder: Path, engine: str = "waveform") -> Path:
    """A copy of a shipped model as a run folder (weights in float32, config with the weights' SHA-256)."""
    state, config = load_checkpoint(shipped_path(engine))
    body = {k: v for k, v in config.items() if k not in ("format", "engine", "moodtune_version", "weights_sha256")}
    return save_checkpoint(folder / "run", str(config["engine"]), state, body)


def edit_config(run: Path, change: Callable[[dict], object]) -> Path:
    """Change the run's config.json in place with ``change(config)``."""
    config = json.loads((run / CONFIG_FILE).read_text())
    change(config)
    (run / CONFIG_FILE).write_text(json.dumps(config))
    return run


def generate_with(run: Path, folder: Path) -> list[str]:
    return ["generate", "--checkpoint", str(run), "--mood", "calm", "--seconds", "2", "--out", str(folder / "x.wav")]


def truncated_weights(folder: Path) -> list[str]:
    run = run_copy(folder)
    data = (run / WEIGHTS_FILE).read_bytes()
    (run / WEIGHTS_FILE).write_bytes(data[: len(data) // 2])
    edit_config(run, lambda c: c.update(weights_sha256=file_sha256(run / WEIGHTS_FILE)))  # the damage recorded
    return generate_with(run, folder)


def random_weights(folder: Path) -> list[str]:
    run = run_copy(folder)
    (run / WEIGHTS_FILE).write_bytes(np.random.default_rng(0).bytes(4096))
    edit_config(run, lambda c: c.update(weights_sha256=file_sha256(run / WEIGHTS_FILE)))  # the damage recorded
    return generate_with(run, folder)


def flipped_weights(folder: Path) -> list[str]:
    run = run_copy(folder)
    data = bytearray((run / WEIGHTS_FILE).read_bytes())
    data[-100] ^= 0xFF  # one byte of a tensor: the file still parses
    (run / WEIGHTS_FILE).write_bytes(bytes(data))
    return generate_with(run, folder)


def config_list(folder: Path) -> list[str]:
    run = run_copy(folder)
    (run / CONFIG_FILE).write_text("[]")
    return generate_with(run, folder)


def config_without_model(folder: Path) -> list[str]:
    return generate_with(edit_config(run_copy(folder), lambda c: c.pop("model")), folder)


def config_edited_size(folder: Path) -> list[str]:
    return generate_with(edit_config(run_copy(folder), lambda c: c["model"].update(latent_dim=48)), folder)


def config_newer_format(folder: Path) -> list[str]:
    return generate_with(edit_config(run_copy(folder), lambda c: c.update(format=99)), folder)


def config_binary(folder: Path) -> list[str]:
    run = run_copy(folder)
    (run / CONFIG_FILE).write_bytes(b"\xff\xfe\x00junk")
    return generate_with(run, folder)


def trajectory_csv(content: bytes) -> Callable[[Path], list[str]]:
    def setup(folder: Path) -> list[str]:
        (folder / "t.csv").write_bytes(content)
        return ["generate", "--trajectory-file", str(folder / "t.csv"), "--out", str(folder / "x.wav")]

    return setup


def short_wav(folder: Path) -> Path:
    return write_audio(folder / "blip.wav", music_like(0.01, 22050), 22050)  # 220 samples


def reconstruct_short(folder: Path) -> list[str]:
    return ["reconstruct", str(short_wav(folder)), "--out", str(folder / "r.wav")]


def analyze_short(folder: Path) -> list[str]:
    return ["analyze", str(short_wav(folder))]


def deam_text_value(folder: Path) -> list[str]:
    root = make_deam(folder / "deam")
    static = next(root.rglob("static_annotations_averaged_songs_2000_2058.csv"))
    static.write_text(static.read_text() + "2, high, 1, 6.0, 1, 8.0, 0.5, 5.0, 1.0, 9.0, 0.1, 1.0, 0.1\n")
    return ["prepare", "deam", str(root), "--out", str(folder / "prepared"), "--workers", "1"]


def out_is_a_folder(folder: Path) -> list[str]:
    (folder / "taken").mkdir()
    return ["generate", "--mood", "calm", "--seconds", "2", "--out", str(folder / "taken")]


def prepare_out_is_a_file(folder: Path) -> list[str]:
    (folder / "file").write_text("x")
    return ["prepare", "builtin", "--out", str(folder / "file"), "--limit", "1"]


def out_below_a_file(folder: Path) -> list[str]:
    (folder / "file").write_text("x")
    return ["generate", "--mood", "calm", "--seconds", "2", "--out", str(folder / "file" / "x.wav")]


@contextlib.contextmanager
def small_disk(folder: Path) -> object:
    """``folder/disk``: a 64 kB file system (a tmpfs when this process may mount one, else a simulated one
    whose writes fail as libsndfile fails on a full disk)."""
    disk = folder / "disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], capture_output=True)
    if mounted.returncode == 0:
        try:
            yield
        finally:
            subprocess.run(["umount", str(disk)], capture_output=True)
        return
    import soundfile

    def full(*args: object, **kwargs: object) -> None:
        raise soundfile.LibsndfileError(1, "System error.")

    usage = shutil.disk_usage(folder)._replace(free=1024)
    with mock.patch("soundfile.write", full), mock.patch("shutil.disk_usage", lambda _: usage):
        yield


def full_disk(folder: Path) -> list[str]:
    return ["generate", "--mood", "calm", "--seconds", "20", "--out", str(folder / "disk" / "x.wav")]


def huge_seed(folder: Path) -> list[str]:
    return ["generate", "--mood", "calm", "--seed", "99999999999999999999999", "--out", str(folder / "x.wav")]


def analyze_empty_folder(folder: Path) -> list[str]:
    (folder / "nothing").mkdir()
    (folder / "nothing" / "notes.txt").write_text("no audio here")
    return ["analyze", str(folder / "nothing")]


def random_mp3(folder: Path) -> list[str]:
    (folder / "noise.mp3").write_bytes(np.random.default_rng(1).bytes(5000))
    return ["analyze", str(folder / "noise.mp3")]


def reconstruct_missing(folder: Path) -> list[str]:
    return ["reconstruct", str(folder / "missing.wav"), "--out", str(folder / "r.wav")]


def resume_other_size(folder: Path) -> list[str]:
    run = folder / "run"
    (run / "checkpoints").mkdir(parents=True)
    (run / "checkpoints" / "last.ckpt").write_bytes(b"")
    saved = {"data": str(folder / "data"), "out": str(run), "size": "debug", "epochs": 1}
    (run / "train_config.json").write_text(json.dumps({"engine": "spectrogram", "train": saved}))
    return ["train", "spectrogram", "--data", str(folder / "data"), "--out", str(run), "--resume", "--size", "small"]


def trajectory_empty_item(folder: Path) -> list[str]:
    return ["generate", "--trajectory", "sad:0,,happy:30", "--out", str(folder / "x.wav")]


def config_nested(folder: Path) -> list[str]:
    run = run_copy(folder)
    (run / CONFIG_FILE).write_text("[" * 100_000 + "]" * 100_000)
    return generate_with(run, folder)


def wide_wav(rate: int, channels: int) -> Callable[[Path], list[str]]:
    def setup(folder: Path) -> list[str]:
        import soundfile as sf

        sf.write(str(folder / "wide.wav"), np.full((rate // 20, channels), 0.5, np.float32), rate, subtype="PCM_16")
        return ["analyze", str(folder / "wide.wav")]

    return setup


def out_named(name: str) -> Callable[[Path], list[str]]:
    def setup(folder: Path) -> list[str]:
        return ["generate", "--mood", "calm", "--seconds", "2", "--out", str(folder) + "/" + name]

    return setup


def trajectory_past_seconds(folder: Path) -> list[str]:
    return ["generate", "--trajectory", "sad:0,happy:40", "--seconds", "30", "--out", str(folder / "x.wav")]


def primer_fifo(folder: Path) -> list[str]:
    import os

    os.mkfifo(folder / "primer.mid")
    return ["generate", "--engine", "symbolic", "--mood", "calm", "--primer", str(folder / "primer.mid"), "--out",
            str(folder / "x.mid")]  # fmt: skip


def primer_long(folder: Path) -> list[str]:
    from tests.conftest import write_midi

    write_midi(folder / "long.mid", [60 + i % 12 for i in range(6000)], seconds_per_note=0.05)
    return ["generate", "--engine", "symbolic", "--mood", "calm", "--primer", str(folder / "long.mid"), "--out",
            str(folder / "x.mid")]  # fmt: skip


def weights_from_a_path(folder: Path) -> list[str]:
    run = edit_config(run_copy(folder), lambda c: c.update(weights_from={"vae.": "/srv/models/spectrogram"}))
    return generate_with(run, folder)


def config_without_sha(folder: Path) -> list[str]:
    return generate_with(edit_config(run_copy(folder), lambda c: c.pop("weights_sha256")), folder)


def codec_from_the_hub(folder: Path) -> list[str]:
    shutil.copytree(shipped_path("spectrogram"), folder / "spectrogram")  # the VAE it takes its weights from
    run = edit_config(run_copy(folder, "latent"), lambda c: c.update(codec={"kind": "encodec", "path": "org/model"}))
    return generate_with(run, folder)


CASES: list[Case] = [
    Case("checkpoint", "truncated model.safetensors", truncated_weights, "corrupt weights file"),
    Case("checkpoint", "random bytes as model.safetensors", random_weights, "corrupt weights file"),
    Case("checkpoint", "one byte of the weights changed", flipped_weights, "SHA-256 differs"),
    Case("checkpoint", "config.json is []", config_list, "a JSON object expected"),
    Case("checkpoint", "config.json is binary junk", config_binary, "corrupt checkpoint config"),
    Case("checkpoint", "config.json lacks model", config_without_model, "does not fit"),
    Case("checkpoint", "config.json with an edited latent_dim", config_edited_size, "does not fit"),
    Case("checkpoint", "a checkpoint of a newer format", config_newer_format, "upgrade moodtune"),
    Case("checkpoint", "config.json nested 100,000 brackets deep", config_nested, "corrupt checkpoint config"),
    Case("checkpoint", "weights_from names an absolute path", weights_from_a_path, "only the name of a model"),
    Case("checkpoint", "config.json without weights_sha256", config_without_sha, "records no weights_sha256"),
    Case("checkpoint", "a codec path that is a hub id", codec_from_the_hub, "reads no model from the network"),
    Case("trajectory", "CSV with a text value", trajectory_csv(b"time,valence,arousal\n0,high,low\n"), "not a number"),
    Case("trajectory", "empty CSV", trajectory_csv(b""), "empty file"),
    Case("trajectory", "binary junk as CSV", trajectory_csv(b"\xff\xfe\x00\x81junk\x00" * 20), "not a readable CSV"),
    Case("trajectory", "CSV with a missing value", trajectory_csv(b"time,valence,arousal\n0,0.5,\n"), "missing"),
    Case("trajectory", "'sad:0,,happy:30'", trajectory_empty_item, "an empty point"),
    Case("audio", "reconstruct a 220-sample WAV", reconstruct_short, "too short to use"),
    Case("audio", "analyze a 220-sample WAV", analyze_short, "too short to analyse"),
    Case("audio", "analyze random bytes named .mp3", random_mp3, "not a recognised audio format"),
    Case("audio", "analyze a folder with no audio", analyze_empty_folder, "no audio files"),
    Case("audio", "reconstruct a missing file", reconstruct_missing, "no such file"),
    Case("audio", "analyze a WAV of 384 kHz", wide_wav(384_000, 1), "read at up to 192000 Hz"),
    Case("audio", "analyze a WAV of 9 channels", wide_wav(8_000, 9), "at most 8"),
    Case("midi", "a FIFO as --primer", primer_fifo, "not a regular file"),
    Case("midi", "a primer of 6000 notes", primer_long, "a primer is at most 5000 notes"),
    Case("dataset", "DEAM annotations with a text value", deam_text_value, "'high' is not a number"),
    Case("output", "--out is an existing folder", out_is_a_folder, "is a folder"),
    Case("output", "prepare --out is a file", prepare_out_is_a_file, "a file, not a folder"),
    Case("output", "--out below a file", out_below_a_file, "not a folder"),
    Case("output", "a full disk", full_disk, "no space left"),
    Case("output", "--out x.mp3 (WAV is written)", out_named("x.mp3"), "name the file .wav"),
    Case("output", "--out newdir/", out_named("newdir/"), "is a folder"),
    Case("trajectory", "a trajectory past --seconds", trajectory_past_seconds, "after the end of the piece"),
    Case("options", "--seed 99999999999999999999999", huge_seed, "seed must be a whole number"),
    Case("options", "train --resume with another --size", resume_other_size, "size was 'debug'"),
]


def run_case(case: Case, folder: Path) -> Outcome:
    """Run one case in ``folder`` (a fresh, empty folder)."""
    argv = case.setup(folder)
    err, out = io.StringIO(), io.StringIO()
    disk = small_disk(folder) if case.setup is full_disk else contextlib.nullcontext()
    with disk, contextlib.redirect_stderr(err), contextlib.redirect_stdout(out):
        try:
            code = main(argv)
        except SystemExit as exc:
            code = int(exc.code or 0)
        except Exception:  # the promise broken: report it as the traceback it would print
            traceback.print_exc(file=err)
            code = 1
    text = err.getvalue().replace(str(folder), "TMP")
    lines = tuple(line for line in text.splitlines() if line.strip())
    command = "moodtune " + " ".join(argv).replace(str(folder), "TMP")
    return Outcome(command, code, lines, "Traceback" in text)


def render(outcomes: list[tuple[Case, Outcome]]) -> str:
    """docs/reliability.md's matrix."""
    rows = ["| group | case | command | exit | what the user reads |", "|---|---|---|---|---|"]
    for case, outcome in outcomes:
        said = " / ".join(outcome.lines).replace("|", "\\|")
        rows.append(f"| {case.group} | {case.name} | `{outcome.command}` | {outcome.code} | {said} |")
    kept = sum(o.kept for _, o in outcomes)
    return "\n".join([*rows, "", f"{kept} of {len(outcomes)} cases give exit 2 and one clear line."]) + "\n"
