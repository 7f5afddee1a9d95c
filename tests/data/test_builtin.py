from pathlib import Path

import numpy as np
import pandas as pd
import pretty_midi
import pytest

from moodtune.data import prepare, read_manifest
from moodtune.data.adapters.builtin import COLLECTIONS, corpus_files, read_score_notes, score_key
from moodtune.data.cues import Cues
from moodtune.mood import quadrant_name


@pytest.fixture(scope="module")
def builtin_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("builtin")
    result = prepare("builtin", None, out, clip_seconds=5.0, limit=4, workers=1, progress=False)
    return out, result


def test_four_quadrants_per_piece_and_several_styles(builtin_run):
    out, result = builtin_run
    df = read_manifest(out)
    assert df.track_id.nunique() == 4 and df["style"].nunique() == 4
    for _, piece in df.groupby("track_id"):
        quads = {quadrant_name(v, a) for v, a in zip(piece.valence, piece.arousal, strict=True)}
        assert quads == {"happy", "angry", "sad", "calm"}
        assert set(piece.variant) == quads  # each rendering is labelled in the quadrant it was rendered for
    assert result.summary["skipped_count"] == 0


def test_renderings_carry_their_cues(builtin_run):
    df = read_manifest(builtin_run[0])
    first = df[df.start_s == 0]
    by_variant = {row.variant: row for row in first[first.track_id == first.track_id.iloc[0]].itertuples()}
    midis = {k: pretty_midi.PrettyMIDI(r.midi_path) for k, r in by_variant.items()}

    def notes(pm):
        return [n for inst in pm.instruments for n in inst.notes]

    def mean_velocity(pm):
        return np.mean([n.velocity for n in notes(pm)])

    def onsets_per_second(pm):
        ns = [n for n in notes(pm) if n.start < 5.0]
        return len({round(n.start, 3) for n in ns}) / 5.0

    # loud/fast (high arousal) vs soft/slow (low arousal)
    assert mean_velocity(midis["happy"]) > mean_velocity(midis["calm"])
    assert mean_velocity(midis["angry"]) > mean_velocity(midis["sad"])
    assert onsets_per_second(midis["angry"]) > onsets_per_second(midis["sad"])
    # mode: over the piece's tonic, the happy rendering has major thirds, the sad one minor thirds
    track = first.track_id.iloc[0]
    path = dict(p for c in corpus_files().values() for p in c)[track.removeprefix("builtin/") + ".mxl"]
    tonic, _ = score_key(*read_score_notes(path))

    def thirds(pm):
        degrees = [(n.pitch - tonic) % 12 for n in notes(pm)]
        return degrees.count(4), degrees.count(3)

    major_happy, minor_happy = thirds(midis["happy"])
    major_sad, minor_sad = thirds(midis["sad"])
    assert major_happy > minor_happy and minor_sad > major_sad
    # louder renderings give louder audio
    logmel_mean = {k: float(np.mean(pretty_midi_audio_rms(r.path))) for k, r in by_variant.items()}
    assert logmel_mean["angry"] > logmel_mean["sad"]


def pretty_midi_audio_rms(path: str) -> float:
    from moodtune.audio.io import load_audio

    audio, _ = load_audio(path, end_s=5.0)
    return float(np.sqrt(np.mean(audio**2)))


def test_labels_follow_the_documented_formula(builtin_run):
    df = read_manifest(builtin_run[0])
    assert df.valence.between(-1, 1).all() and df.arousal.between(-1, 1).all()
    c = Cues(mode=1, tempo=0.5, loudness=0.5, articulation=0.0, register=1)
    assert (c.valence, c.arousal) == (0.875, 0.4)
    for row in df.itertuples():
        assert Path(row.path).is_file() and Path(row.midi_path).is_file()


def test_second_run_is_reused(builtin_run):
    out, first = builtin_run
    again = prepare("builtin", None, out, clip_seconds=5.0, limit=4, workers=1, progress=False)
    assert again.jobs_run == 0
    pd.testing.assert_frame_equal(read_manifest(out), pd.read_parquet(first.manifest_path))


def test_corpus_has_every_collection():
    files = corpus_files()
    for c in COLLECTIONS:
        assert len(files[c.style]) >= 20, c.style


@pytest.fixture(scope="module")
def midi_only_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("builtin-midi")
    result = prepare("builtin", None, out, limit=3, workers=1, progress=False, midi_only=True)
    return out, result


def test_midi_only_keeps_whole_renderings_without_audio(midi_only_run):
    out, result = midi_only_run
    df = read_manifest(out)
    assert len(df) == 12 and df.track_id.nunique() == 3
    assert not (out / "audio").exists() and not (out / "cache").exists()
    assert result.summary["midi_only"] is True and "mel" not in result.summary
    for row in df.itertuples():
        pm = pretty_midi.PrettyMIDI(row.midi_path)
        assert row.path == row.midi_path and row.start_s == 0.0
        assert row.end_s == pytest.approx(pm.get_end_time(), abs=0.01) and row.end_s <= 120.0  # to the tick
        assert quadrant_name(row.valence, row.arousal) == row.variant
    # whole pieces: longer than the two 8 s clips an audio rendering keeps
    assert df.end_s.max() > 2 * 8.0 + 0.25
    # the slow (sad) rendering of a piece lasts longer than its fast (angry) one
    for _, piece in df.groupby("track_id"):
        by = dict(zip(piece.variant, piece.end_s, strict=True))
        if max(by.values()) < 120.0:
            assert by["sad"] > by["angry"]


def test_every_rendering_records_its_scores_tonic(midi_only_run):
    from moodtune.data.token_datasets import known_tonic

    out, _ = midi_only_run
    df = read_manifest(out)
    paths = {"builtin/" + rel.rsplit(".", 1)[0]: p for v in corpus_files().values() for rel, p in v}
    for track, piece in df.groupby("track_id"):
        assert piece.tonic.nunique() == 1  # the renderings differ in mode and register, not in tonic
        assert known_tonic(piece.iloc[0]) == score_key(*read_score_notes(paths[track]))[0]
    assert known_tonic(pd.Series({"tonic": -1})) is None and known_tonic(pd.Series({"x": 1})) is None


def test_midi_only_run_is_reused_and_differs_from_the_audio_form(midi_only_run, tmp_path):
    out, _ = midi_only_run
    again = prepare("builtin", None, out, limit=3, workers=1, progress=False, midi_only=True)
    assert again.jobs_run == 0 and again.jobs_reused == 3
    (next((out / "midi").rglob("*.mid"))).unlink()  # a lost file is made again
    third = prepare("builtin", None, out, limit=3, workers=1, progress=False, midi_only=True)
    assert third.jobs_run == 1


def test_midi_only_feeds_the_symbolic_engine_and_is_refused_by_audio_users(midi_only_run):
    from moodtune.data.manifest import read_audio_manifest
    from moodtune.data.token_datasets import load_pieces
    from moodtune.errors import DatasetError

    out, _ = midi_only_run
    _, pieces, styles = load_pieces(out, "beats")
    assert len(pieces) == 12 and all(len(p.tokens) > 50 for p in pieces) and len(styles) >= 3
    with pytest.raises(DatasetError, match=r"--midi-only.*the spectrogram engine needs audio"):
        read_audio_manifest(out, "the spectrogram engine")


def test_midi_only_is_refused_by_training_an_audio_engine(midi_only_run, capsys):
    from moodtune.cli import main

    out, _ = midi_only_run
    assert main(["train", "spectrogram", "--data", str(out), "--out", str(out / "run"), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--midi-only" in err and "spectrogram engine" in err


def test_midi_only_scores_give_pieces_that_change_mood(midi_only_run):
    from moodtune.data.token_datasets import TokenWindowDataset, load_pieces
    from moodtune.errors import MoodtuneError

    out, _ = midi_only_run
    tok, pieces, _ = load_pieces(out, "beats", transpose=True, mood_changes=2, seed=1)
    joined = [p for p in pieces if p.moods is not None]
    train_scores = {p.track_id for p in pieces if p.split == "train" and p.moods is None}
    assert len(pieces) - len(joined) == 12 and 0 < len(joined) <= 2 * len(train_scores)
    assert all(p.split == "train" and p.track_id in train_scores for p in joined)
    assert all(len({tuple(m) for m in p.moods}) >= 2 for p in joined)  # the mood changes within each
    windows = TokenWindowDataset(joined, tok, seq_len=400)
    assert any(len(np.unique(windows[i]["mood"][:, 0])) > 1 for i in range(len(windows)))  # and within windows
    with pytest.raises(MoodtuneError, match="--tokens beats"):
        load_pieces(out, "timed", mood_changes=1)
