"""Token windows for the symbolic engine, from the MIDI files a prepared dataset kept."""

from __future__ import annotations

import logging
import os
import random
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from moodtune.data.manifest import read_manifest
from moodtune.data.mood_changes import Rendering, joined_pieces
from moodtune.data.torch_datasets import style_vocabulary
from moodtune.errors import DatasetError, MoodtuneError
from moodtune.labels import mood_vector
from moodtune.midi.analysis import to_c_tonic
from moodtune.midi.render import load_midi
from moodtune.midi.tokens import BOS, EOS, PAD, NotesTokenizer, Tokenizer, make_tokenizer, midi_meter, midi_notes

log = logging.getLogger(__name__)


@dataclass
class Piece:
    """One MIDI file of a dataset (or a piece joined from several): its tokens, mood ``[3]``, style id and split;
    ``moods`` ``[len(tokens), 3]`` when the mood changes within the piece."""

    track_id: str
    midi_path: str
    tokens: list[str]
    mood: list[float]
    style: int
    split: str
    moods: np.ndarray | None = None


def known_tonic(row: pd.Series) -> int | None:
    """The manifest row's ``tonic`` (a pitch class), or None where it is unknown (-1, or a manifest without it)."""
    tonic = row.get("tonic", -1)
    return None if pd.isna(tonic) or int(tonic) < 0 else int(tonic)


def load_pieces(
    data_dir: str | os.PathLike[str], kind: str, transpose: bool = False, mood_changes: int = 0, seed: int = 0
) -> tuple[Tokenizer, list[Piece], list[str]]:
    """Tokenize every MIDI file the manifest points to; returns ``(tokenizer, pieces, style vocabulary)``.

    With ``transpose`` every piece is first moved to a C tonic (:func:`to_c_tonic`): the manifest's ``tonic``
    where the dataset knows it (the builtin renderings of one score all share the score's), else the
    estimated one. With ``mood_changes`` (a
    bar-aware format only) each training score with renderings in several moods also gives that many pieces
    joined from them at bar lines (:mod:`moodtune.data.mood_changes`), drawn with ``seed``.
    """
    manifest = read_manifest(data_dir)
    with_midi = manifest[manifest["midi_path"].astype(str) != ""]
    if with_midi.empty:
        raise DatasetError(
            f"{data_dir}: this dataset kept no MIDI; prepare 'builtin' or a 'midi' folder for the symbolic engine"
        )
    if mood_changes and kind != "beats":
        raise MoodtuneError("mood changes are joined at bar lines: they need --tokens beats")
    styles = style_vocabulary(manifest)
    index = {s: i for i, s in enumerate(styles)}
    tokenizer = make_tokenizer(kind)
    raw: list[tuple[pd.Series, list[str]]] = []
    scores: dict[str, list[Rendering]] = {}
    for _, row in with_midi.drop_duplicates("midi_path").iterrows():
        try:
            pm = load_midi(row["midi_path"])
            notes = midi_notes(pm)
            notes = to_c_tonic(notes, known_tonic(row)) if transpose else notes
            meter = midi_meter(pm)
            tokens = tokenizer.encode(notes, meter)
        except MoodtuneError as exc:
            log.warning("skipped %s", exc)
            continue
        if tokens:
            raw.append((row, tokens))
            if mood_changes and row["split"] == "train":
                mood = mood_vector(row["valence"], row["arousal"])
                scores.setdefault(str(row["track_id"]), []).append(Rendering(notes, meter, mood))
    if not raw:
        raise DatasetError(f"{data_dir}: none of the MIDI files gave tokens")
    if isinstance(tokenizer, NotesTokenizer):
        tokenizer = tokenizer.fit([t for _, t in raw])
    pieces = [
        Piece(
            str(r["track_id"]),
            str(r["midi_path"]),
            t,
            mood_vector(r["valence"], r["arousal"]),
            index[str(r["style"])],
            str(r["split"]),
        )
        for r, t in raw
    ]
    if mood_changes:
        pieces += _joined(pieces, scores, tokenizer, mood_changes, random.Random(seed))
    return tokenizer, pieces, styles


def _joined(
    pieces: list[Piece], scores: dict[str, list[Rendering]], tokenizer: Tokenizer, count: int, rng: random.Random
) -> list[Piece]:
    """``count`` pieces joined from the renderings of each training score (see :func:`joined_pieces`)."""
    style = {p.track_id: p.style for p in pieces}
    out = []
    for track, renderings in scores.items():
        for tokens, moods in joined_pieces(renderings, tokenizer, count, rng):
            out.append(Piece(track, "", tokens, moods[0].tolist(), style[track], "train", moods))
    log.info("%d pieces joined from renderings in different moods", len(out))
    return out


class TokenWindowDataset(Dataset):
    """Windows of ``seq_len + 1`` token ids (``<bos> piece <eos>``, padded) with per-token mood and the style."""

    def __init__(self, pieces: list[Piece], tokenizer: Tokenizer, seq_len: int = 40, hop: int | None = None) -> None:
        hop = hop or max(1, seq_len // 2)
        pad = tokenizer.index[PAD]
        self.windows: list[tuple[np.ndarray, np.ndarray, int]] = []
        for p in pieces:
            ids = tokenizer.ids([BOS, *p.tokens, EOS])
            moods = _token_moods(p, len(ids))
            if len(ids) < seq_len + 1:
                moods = np.concatenate([moods, np.repeat(moods[-1:], seq_len + 1 - len(ids), axis=0)])
                ids = ids + [pad] * (seq_len + 1 - len(ids))
            for start in range(0, len(ids) - seq_len, hop):
                end = start + seq_len + 1
                self.windows.append((np.asarray(ids[start:end]), moods[start:end], p.style))
        self.seq_len = seq_len

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        ids, moods, style = self.windows[i]
        return {
            "tokens": torch.from_numpy(ids).long(),  # [T + 1]
            "mood": torch.from_numpy(np.array(moods, dtype=np.float32)),  # [T + 1, 3]
            "style": torch.tensor(style, dtype=torch.long),
        }


def _token_moods(piece: Piece, n: int) -> np.ndarray:
    """The mood ``[n, 3]`` of ``<bos> tokens <eos>``: the piece's own per token, or its one mood everywhere (the
    ``<bos>`` takes the first token's, the ``<eos>`` the last's)."""
    if piece.moods is None:
        return np.broadcast_to(np.asarray(piece.mood, dtype=np.float32), (n, 3))
    return np.concatenate([piece.moods[:1], piece.moods, piece.moods[-1:]]).astype(np.float32)
