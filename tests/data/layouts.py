"""Build tiny datasets in the layouts the real ones ship in (audio written in the real formats)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.conftest import music_like, write_audio, write_midi

DEAM_STATIC_1 = {2: (6.2, 5.4), 3: (3.0, 2.6), 5: (5.0, 5.0)}  # song -> (valence, arousal) on 1-9
DEAM_STATIC_2 = {2001: (7.0, 3.8)}
DEAM_SECONDS = 20.0


def deam_dynamic(song: int, kind: str) -> list[float]:
    """2 Hz samples from 15 s on: a known ramp; song 3 is shorter (later cells empty)."""
    n = 10 if song != 3 else 6
    base = 0.1 if kind == "valence" else -0.2
    return [round(base + 0.05 * i + 0.01 * song % 7, 4) for i in range(n)]


def make_deam(root: Path, drop: str | None = None, bad_columns: bool = False) -> Path:
    """DEAM as distributed: MEMD_audio/*.mp3 (44.1 kHz) and the annotation CSVs in nested folders."""
    audio_dir = root / "DEAM_audio" / "MEMD_audio"
    for song in (2, 3, 2001, 4):  # 4 has no annotation row
        write_audio(audio_dir / f"{song}.mp3", music_like(DEAM_SECONDS, 44100, seed=song), 44100)
    (audio_dir / "5.mp3").write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + bytes(range(256)) * 4)  # corrupt
    ann = root / "DEAM_Annotations" / "annotations" / "annotations averaged per song"
    static = ann / "song_level"
    static.mkdir(parents=True)
    v_col = "valence" if bad_columns else "valence_mean"
    rows = [f"song_id, {v_col}, valence_std, arousal_mean, arousal_std"]
    rows += [f"{s}, {v}, 1.1, {a}, 0.9" for s, (v, a) in DEAM_STATIC_1.items()]
    if drop != "static1":
        (static / "static_annotations_averaged_songs_1_2000.csv").write_text("\n".join(rows) + "\n")
    rows = [
        "song_id, valence_mean, valence_std, valence_max_mean, valence_max_std, valence_min_mean, valence_min_std,"
        " arousal_mean, arousal_std, arousal_max_mean, arousal_max_std, arousal_min_mean, arousal_min_std"
    ]
    rows += [f"{s}, {v}, 1.0, 8.0, 0.5, 2.0, 0.5, {a}, 1.0, 9.0, 0.1, 1.0, 0.1" for s, (v, a) in DEAM_STATIC_2.items()]
    (static / "static_annotations_averaged_songs_2000_2058.csv").write_text("\n".join(rows) + "\n")
    dyn = ann / "dynamic (per second annotations)"
    dyn.mkdir(parents=True)
    for kind in ("valence", "arousal"):
        header = "song_id," + ",".join(f"sample_{15000 + 500 * i}ms" for i in range(10))
        lines = [header]
        for song in (2, 3, 2001):
            values = deam_dynamic(song, kind)
            lines.append(f"{song}," + ",".join([str(x) for x in values] + [""] * (10 - len(values))))
        if drop != kind:
            (dyn / f"{kind}.csv").write_text("\n".join(lines) + "\n")
    return root


GTZAN_GENRES = ("blues", "jazz", "rock")


def make_gtzan(root: Path, seconds: float = 12.0) -> Path:
    """genres_original/<genre>/<genre>.000NN.wav at 22 050 Hz; one file shorter, jazz.00054 corrupt."""
    base = root / "Data" / "genres_original"
    for g, genre in enumerate(GTZAN_GENRES):
        for k in range(2):
            length = seconds - 0.5 if (genre, k) == ("rock", 1) else seconds
            write_audio(base / genre / f"{genre}.{k:05d}.wav", music_like(length, 22050, seed=10 * g + k), 22050)
    (base / "jazz" / "jazz.00054.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt " + b"\x00" * 40)
    return root


def make_midi_folder(root: Path) -> Path:
    """EMOPIA-style prefixed files, a labelled file in a sub-folder, and a corrupt file."""
    write_midi(root / "Q1_bright.mid", [60, 64, 67, 72] * 6, velocity=100)
    write_midi(root / "Q3_dark.mid", [57, 60, 64, 57] * 6, seconds_per_note=0.4, velocity=50)
    write_midi(root / "nocturnes" / "op9.midi", [62, 65, 69, 74] * 6)
    (root / "broken.mid").write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\xff\xff")
    (root / "labels.csv").write_text("file,valence,arousal\nnocturnes/op9.midi,0.2,-0.4\n")
    return root


def make_audio_folder(root: Path) -> Path:
    """Audio in every supported format, plus a silent and an empty file."""
    write_audio(root / "a.wav", music_like(6.0, 22050, seed=1), 22050)
    write_audio(root / "live" / "b.flac", music_like(6.0, 44100, seed=2), 44100)
    write_audio(root / "live" / "c.ogg", music_like(6.0, 32000, seed=3), 32000)
    write_audio(root / "d.mp3", music_like(6.0, 44100, seed=4), 44100)
    write_audio(root / "silent.wav", np.zeros(6 * 22050, dtype=np.float32), 22050)
    write_audio(root / "empty.wav", np.zeros(0, dtype=np.float32), 22050)
    return root
