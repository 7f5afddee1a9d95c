from pathlib import Path

import pretty_midi
import pytest

from moodtune.data import prepare, read_manifest, read_summary
from moodtune.errors import DatasetError
from moodtune.mood import Mood
from tests.data.layouts import make_audio_folder, make_midi_folder


def test_midi_folder_labels_rendering_and_skips(tmp_path):
    root = make_midi_folder(tmp_path / "midi")
    out = tmp_path / "out"
    warnings = []
    prepare(
        "midi",
        root,
        out,
        clip_seconds=2.0,
        labels=str(root / "labels.csv"),
        workers=1,
        progress=False,
        warn=warnings.append,
    )
    df = read_manifest(out)
    by_track = {t: g.iloc[0] for t, g in df.groupby("track_id")}
    assert set(by_track) == {"midi/Q1_bright", "midi/Q3_dark", "midi/nocturnes/op9"}
    happy, sad = Mood.named("happy"), Mood.named("sad")
    assert (by_track["midi/Q1_bright"].valence, by_track["midi/Q1_bright"].arousal) == (happy.valence, happy.arousal)
    assert (by_track["midi/Q3_dark"].valence, by_track["midi/Q3_dark"].arousal) == (sad.valence, sad.arousal)
    assert (by_track["midi/nocturnes/op9"].valence, by_track["midi/nocturnes/op9"].arousal) == (0.2, -0.4)
    assert by_track["midi/nocturnes/op9"]["style"] == "nocturnes" and by_track["midi/Q1_bright"]["style"] == "midi"
    for row in by_track.values():
        assert Path(row.path).is_file() and row.path.endswith(".wav")  # rendered audio
        assert Path(row.midi_path).is_file()  # MIDI kept
        assert pretty_midi.PrettyMIDI(row.midi_path).instruments[0].notes
    summary = read_summary(out)
    assert summary["skipped_count"] == 1 and "broken.mid" in summary["skipped"][0]["path"]
    assert "corrupt" in summary["skipped"][0]["reason"] and len(warnings) == 1


def test_midi_labels_with_bad_columns(tmp_path):
    root = make_midi_folder(tmp_path / "midi")
    (root / "labels.csv").write_text("name,v,a\nx.mid,0,0\n")
    with pytest.raises(DatasetError, match="expected columns file, valence, arousal"):
        prepare("midi", root, tmp_path / "o", labels=str(root / "labels.csv"), progress=False)


def test_audio_folder_formats_and_bad_files(tmp_path):
    root = make_audio_folder(tmp_path / "aud")
    out = tmp_path / "out"
    prepare("audio", root, out, clip_seconds=2.0, workers=1, progress=False, warn=lambda _: None)
    df = read_manifest(out)
    assert sorted(df.track_id.unique()) == ["audio/a", "audio/d", "audio/live/b", "audio/live/c"]
    assert dict(df.groupby("track_id").sr.first()) == {
        "audio/a": 22050,
        "audio/d": 44100,
        "audio/live/b": 44100,
        "audio/live/c": 32000,
    }
    assert set(df["style"]) == {"audio", "live"} and df.valence.isna().all()
    reasons = {Path(s["path"]).name: s["reason"] for s in read_summary(out)["skipped"]}
    assert set(reasons) == {"silent.wav", "empty.wav"}
    assert "silent" in reasons["silent.wav"] and "empty" in reasons["empty.wav"]


def test_root_errors(tmp_path):
    with pytest.raises(DatasetError, match="needs a ROOT"):
        prepare("audio", None, tmp_path, progress=False)
    with pytest.raises(DatasetError, match="no such folder"):
        prepare("midi", tmp_path / "nope", tmp_path, progress=False)
    with pytest.raises(DatasetError, match="no audio files"):
        prepare("audio", tmp_path, tmp_path / "o", progress=False)
    with pytest.raises(DatasetError, match="takes no ROOT"):
        prepare("builtin", tmp_path, tmp_path / "o", progress=False)
