import subprocess
import sys

import pytest

from moodtune.cli import main


def run(*args):
    return subprocess.run([sys.executable, "-m", "moodtune", *args], capture_output=True, text=True)


def test_help_lists_commands():
    out = run("--help")
    assert out.returncode == 0
    assert "prepare" in out.stdout and "demo" in out.stdout
    prep = run("prepare", "--help")
    assert "--clip-seconds" in prep.stdout and "builtin" in prep.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["prepare", "gtzan", "/no/such/folder", "--out", "x"], "no such folder"),
        (["prepare", "audio", "--out", "x"], "needs a ROOT"),
        (["prepare", "builtin", "--out", "x", "--clip-seconds", "0.1"], "--clip-seconds"),
        (["prepare", "builtin", "--out", "x", "--soundfont", "/no/such.sf2"], "soundfont not found"),
        (["prepare", "audio", ".", "--out", "x", "--midi-only"], "--midi-only applies to the builtin dataset"),
    ],
)
def test_user_errors_are_one_line_exit_2(args, message, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and message in err[0] and err[0].startswith("moodtune: error:")


def test_bad_argument_type_exits_2():
    out = run("prepare", "builtin", "--out", "x", "--limit", "zero")
    assert out.returncode == 2 and "positive integer" in out.stderr


def test_prepare_prints_summary(tmp_path):
    out = run("prepare", "builtin", "--out", str(tmp_path / "b"), "--limit", "1", "--workers", "1", "--quiet")
    assert out.returncode == 0, out.stderr
    assert "clips from 1 tracks" in out.stdout and "happy" in out.stdout
