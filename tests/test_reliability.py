"""Every bad input of the reliability matrix gives exit 2 and one clear line, and docs/reliability.md is current."""

from __future__ import annotations

import importlib.util
import os
import time
from pathlib import Path

import pytest

from moodtune.fsutil import TEMP_MARK, atomic_path, clean_stale_temps
from tests.faults import CASES, Case, run_case

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_bad_input_is_one_line_and_exit_2(case: Case, tmp_path: Path) -> None:
    outcome = run_case(case, tmp_path)
    assert not outcome.traceback, "\n".join(outcome.lines)
    assert outcome.kept, outcome.lines
    assert case.expect in outcome.lines[0]


def test_the_reliability_page_is_current() -> None:
    spec = importlib.util.spec_from_file_location("gen_reliability_doc", ROOT / "scripts" / "gen_reliability_doc.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    expected = module.page()
    actual = (ROOT / "docs" / "reliability.md").read_text()
    assert actual == expected, "docs/reliability.md is stale: run 'python scripts/gen_reliability_doc.py'"


def test_a_failed_prepare_leaves_no_folder(tmp_path: Path) -> None:
    from moodtune.cli import main

    assert main(["prepare", "gtzan", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


def test_temp_files_of_killed_writes_are_cleaned_and_live_ones_kept(tmp_path: Path) -> None:
    dead = tmp_path / f".x.wav.999999999{TEMP_MARK}abc123.tmp.wav"  # no process has that id
    live = tmp_path / f".y.wav.{os.getpid()}{TEMP_MARK}def456.tmp.wav"
    other = tmp_path / ".hidden-but-mine.txt"
    for path in (dead, live, other):
        path.write_bytes(b"x" * 100)
    assert clean_stale_temps(tmp_path) == 1
    assert not dead.exists() and live.exists() and other.exists()


def test_a_write_killed_half_way_is_cleaned_by_the_next_run(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = (
        "import os, time\n"
        "from moodtune.fsutil import atomic_path\n"
        f"with atomic_path({str(tmp_path / 'song.wav')!r}) as tmp:\n"
        "    tmp.write_bytes(b'half'); print('writing', flush=True); time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None and child.stdout.readline().strip() == "writing"
    child.kill()  # kill -9 in the middle of the write
    child.wait()
    left = [p.name for p in tmp_path.iterdir()]
    assert "song.wav" not in left and len(left) == 1, "nothing under the final name, one temporary file"
    from moodtune.cli import main

    assert main(["generate", "--mood", "calm", "--seconds", "1", "--out", str(tmp_path / "next.wav")]) == 0
    after = sorted(p.name for p in tmp_path.iterdir())
    assert left[0] not in after and "next.wav" in after, "the stale temporary file is gone"
    assert all(name.startswith("next.") for name in after)


def test_atomic_write_refuses_a_folder_as_its_target(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError), atomic_path(tmp_path):
        time.sleep(0)


def test_a_read_only_output_folder_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import subprocess

    from moodtune.cli import main

    folder = tmp_path / "locked"
    folder.mkdir()
    if os.geteuid() == 0:  # root writes through permissions: use a read-only file system instead
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(folder)], check=False)
        if mounted.returncode != 0:
            pytest.skip("root without permission to mount a read-only file system")
    else:
        folder.chmod(0o555)
    try:
        assert main(["generate", "--mood", "calm", "--seconds", "1", "--out", str(folder / "x.wav")]) == 2
    finally:
        if os.geteuid() == 0:
            subprocess.run(["umount", str(folder)], check=False)
        folder.chmod(0o755)
    lines = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("moodtune: error: ")
    assert "read-only file system" in lines[0] or "permission denied" in lines[0]
    assert ".tmp" not in lines[0], "the error names the file asked for, not its temporary file"


def test_a_broken_mp3_is_one_line_in_a_real_process(tmp_path: Path) -> None:
    """What C decoders print (libmpg123's warnings) does not come before moodtune's line."""
    import subprocess
    import sys

    import numpy as np

    noise = tmp_path / "noise.mp3"
    noise.write_bytes(np.random.default_rng(1).bytes(5000))
    done = subprocess.run([sys.executable, "-m", "moodtune", "analyze", str(noise)], capture_output=True, text=True)
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert done.returncode == 2 and len(lines) == 1, done.stderr
    assert "not a recognised audio format" in lines[0]


@pytest.mark.parametrize("engine", ["waveform", "symbolic"])  # one file, and a set of five (MIDI, WAV, score ...)
def test_a_full_disk_keeps_what_was_written_before(
    engine: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from moodtune.cli import main
    from tests.faults import small_disk

    made = tmp_path / "made.wav"
    assert main(["generate", "--engine", "waveform", "--mood", "calm", "--seconds", "1", "--out", str(made)]) == 0
    before = made.read_bytes()
    made.unlink()
    with small_disk(tmp_path):
        earlier = tmp_path / "disk" / "earlier.wav"
        earlier.write_bytes(before)  # written before the disk filled up
        out = str(tmp_path / "disk" / "x.wav")
        assert main(["generate", "--engine", engine, "--mood", "calm", "--seconds", "20", "--out", out]) == 2
        assert earlier.read_bytes() == before
        assert sorted(p.name for p in (tmp_path / "disk").iterdir()) == ["earlier.wav"], "no partial file is left"
    assert "no space left" in capsys.readouterr().err


def test_an_out_that_is_a_pipe_is_refused_and_a_link_is_written_through(tmp_path: Path, capsys) -> None:
    from moodtune.cli import main

    pipe = tmp_path / "pipe.wav"
    os.mkfifo(pipe)
    assert main(["generate", "--mood", "calm", "--seconds", "1", "--out", str(pipe)]) == 2
    assert "not a regular file" in capsys.readouterr().err
    assert not pipe.is_file() and pipe.exists(), "the pipe is still a pipe"
    real, link = tmp_path / "real.wav", tmp_path / "link.wav"
    real.write_bytes(b"old")
    link.symlink_to(real)
    assert main(["generate", "--mood", "calm", "--seconds", "1", "--out", str(link)]) == 0
    assert link.is_symlink() and real.read_bytes()[:4] == b"RIFF"


def test_a_symbolic_set_is_written_whole_or_not_at_all_and_a_failed_page_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import errno

    import moodtune.api
    from moodtune.cli import main

    def full(path: Path, text: str) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(moodtune.api, "write_text_atomic", full)  # the score's pages are the fourth file written
    out = tmp_path / "x.mid"
    assert main(["generate", "--engine", "symbolic", "--mood", "calm", "--seconds", "4", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "x.svg: no space left" in err and ".tmp" not in err  # the page that failed, by its own name
    assert list(tmp_path.iterdir()) == [], "nothing under a final name, and no temporary file"
    monkeypatch.undo()
    assert main(["generate", "--engine", "symbolic", "--mood", "calm", "--seconds", "4", "--out", str(out)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["x.mid", "x.musicxml", "x.png", "x.svg", "x.wav"] or "x-2.svg" in names
