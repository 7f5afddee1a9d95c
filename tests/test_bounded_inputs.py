"""Inputs are bounded and nothing is changed silently: lengths, output names, primers and configs."""

import os
import threading

import pytest
import soundfile as sf

from moodtune.cli import main
from tests.conftest import write_midi


def one_line_error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("moodtune: error:"), err
    return err[0]


def test_a_trajectory_sets_the_length_or_is_refused_past_the_asked_one(tmp_path, capsys):
    out = tmp_path / "t.wav"
    args = ["generate", "--engine", "waveform", "--trajectory", "sad:0,happy:40", "--out", str(out)]
    assert main(args) == 0
    assert sf.info(str(out)).duration == pytest.approx(40.0, abs=0.01)  # not cut at the default 30 s
    capsys.readouterr()
    assert main([*args, "--seconds", "30"]) == 2
    assert "ends at 40 s, after the end of the piece (30 s)" in one_line_error(capsys)
    assert main(["generate", "--engine", "waveform", "--trajectory", "sad:0,happy:10", "--out", str(out)]) == 0
    assert sf.info(str(out)).duration == pytest.approx(30.0, abs=0.01)  # a short curve holds its end


@pytest.mark.parametrize(
    ("engine", "name", "message"),
    [
        ("waveform", "x.mp3", "writes WAV; name the file .wav"),
        ("waveform", "song", "writes WAV"),
        ("symbolic", "x.mp3", "writes MIDI, with its WAV and score beside it; name the file .mid or .midi or .wav"),
        ("waveform", "newdir/", "is a folder"),
    ],
)
def test_an_output_name_must_say_the_format_written(tmp_path, capsys, monkeypatch, engine, name, message):
    monkeypatch.chdir(tmp_path)
    assert main(["generate", "--engine", engine, "--mood", "calm", "--seconds", "2", "--out", name]) == 2
    assert message in one_line_error(capsys)
    assert not any(tmp_path.iterdir()), "nothing is written"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["demo", "--seconds", "0"], "expected a positive number, got '0'"),
        (["analyze", "x.wav", "--step", "0"], "expected a positive number"),
        (["analyze", "x.wav", "--step", "nan"], "expected a positive number, got 'nan'"),
    ],
)
def test_zero_or_non_finite_values_are_refused_not_replaced(args, message, capsys):
    with pytest.raises(SystemExit) as exited:
        main(args)
    assert exited.value.code == 2 and message in capsys.readouterr().err


def test_a_primer_that_is_not_a_regular_file_or_too_long_is_refused(tmp_path, capsys):
    fifo = tmp_path / "primer.mid"
    os.mkfifo(fifo)
    args = ["generate", "--engine", "symbolic", "--mood", "calm", "--out", str(tmp_path / "x.mid"), "--primer"]
    done: list[int] = []
    worker = threading.Thread(target=lambda: done.append(main([*args, str(fifo)])), daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert done == [2], "a FIFO primer must be refused, not read (a read would block for ever)"
    assert "not a regular file" in one_line_error(capsys)
    long = write_midi(tmp_path / "long.mid", [60 + i % 12 for i in range(6000)], seconds_per_note=0.05)
    assert main([*args, str(long)]) == 2
    assert "a primer is at most 5000 notes" in one_line_error(capsys)


def test_a_fifo_or_a_deeply_nested_config_stops_nothing(tmp_path, capsys):
    run = tmp_path / "runs" / "a"
    run.mkdir(parents=True)
    (run / "model.safetensors").write_bytes(b"")
    os.mkfifo(run / "config.json")
    nested = tmp_path / "runs" / "b"
    nested.mkdir()
    (nested / "model.safetensors").write_bytes(b"")
    (nested / "config.json").write_text("[" * 100_000 + "]" * 100_000)
    done: list[int] = []
    worker = threading.Thread(target=lambda: done.append(main(["models", "--dir", str(tmp_path / "runs")])))
    worker.daemon = True
    worker.start()
    worker.join(timeout=60)
    assert done == [0], "models must list what it can read and skip the rest"
    capsys.readouterr()
    assert main(["generate", "--checkpoint", str(nested), "--mood", "calm", "--out", str(tmp_path / "x.wav")]) == 2
    assert "corrupt checkpoint config (RecursionError)" in one_line_error(capsys)


@pytest.mark.parametrize(
    ("command", "says", "never"),
    [("train", "add --resume", "run the same command again"), ("generate", "run the command again", "resume")],
)
def test_ctrl_c_says_how_to_go_on_for_the_command(command, says, never, monkeypatch, capsys):
    import importlib

    module = importlib.import_module(f"moodtune.cli.{command}")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(module, "run", interrupted)
    args = {"train": ["train", "spectrogram", "--data", "d", "--out", "o"], "generate": ["generate", "--mood", "calm",
            "--out", "x.wav"]}[command]  # fmt: skip
    assert main(args) == 130
    err = capsys.readouterr().err
    assert says in err and never not in err
