"""Token windows for the symbolic engine, from the MIDI files a prepared dataset kept."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch
from torch.utils.data import Dataset

from moodtune.data.manifest import read_manifest
from moodtune.data.torch_datasets import style_vocabulary
from moodtune.errors import DatasetError, MoodtuneError
from moodtune.labels import mood_vector
from moodtune.midi.analysis import to_c_tonic
from moodtune.midi.render import load_midi
from moodtune.midi.tokens import BOS, EOS, PAD, NotesTokenizer, Tokenizer, make_tokenizer, midi_meter, midi_notes

log = logging.getLogger(__name__)


@dataclass
class Piece:
    """One MIDI file of a dataset: its tokens, mood ``[3]``, style id and split."""

    track_id: str
    midi_path: str
    tokens: list[str]
    mood: list[float]
    style: int
    split: str


def load_pieces(
    data_dir: str | os.PathLike[str], kind: str, transpose: bool = False
) -> tuple[Tokenizer, list[Piece], list[str]]:
    """Tokenize every MIDI file the manifest points to; returns ``(tokenizer, pieces, style vocabulary)``.

    With ``transpose`` every piece is first moved to a C tonic (:func:`to_c_tonic`).
    """
    manifest = read_manifest(data_dir)
    with_midi = manifest[manifest["midi_path"].astype(str) != ""]
    if with_midi.empty:
        raise DatasetError(
            f"{data_dir}: this dataset kept no MIDI; prepare 'builtin' or a 'midi' folder for the symbolic engine"
        )
    styles = style_vocabulary(manifest)
    index = {s: i for i, s in enumerate(styles)}
    tokenizer = make_tokenizer(kind)
    raw: list[tuple[pd.Series, list[str]]] = []
    for _, row in with_midi.drop_duplicates("midi_path").iterrows():
        try:
            pm = load_midi(row["midi_path"])
            notes = midi_notes(pm)
            tokens = tokenizer.encode(to_c_tonic(notes) if transpose else notes, midi_meter(pm))
        except MoodtuneError as exc:
            log.warning("skipped %s", exc)
            continue
        if tokens:
            raw.append((row, tokens))
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
    return tokenizer, pieces, styles


class TokenWindowDataset(Dataset):
    """Windows of ``seq_len + 1`` token ids (``<bos> piece <eos>``, padded) with per-token mood and the style."""

    def __init__(self, pieces: list[Piece], tokenizer: Tokenizer, seq_len: int = 40, hop: int | None = None) -> None:
        hop = hop or max(1, seq_len // 2)
        pad = tokenizer.index[PAD]
        self.windows: list[tuple[np.ndarray, list[float], int]] = []
        for p in pieces:
            ids = tokenizer.ids([BOS, *p.tokens, EOS])
            if len(ids) < seq_len + 1:
                ids = ids + [pad] * (seq_len + 1 - len(ids))
            for start in range(0, len(ids) - seq_len, hop):
                self.windows.append((np.asarray(ids[start : start + seq_len + 1]), p.mood, p.style))
        self.seq_len = seq_len

    def __len__(self) -> int:
        return len(self.windows)

    def __getitem__(self, i: int) -> dict[str, torch.Tensor]:
        ids, mood, style = self.windows[i]
        return {
            "tokens": torch.from_numpy(ids).long(),  # [T + 1]
            "mood": torch.tensor([mood] * len(ids), dtype=torch.float32),  # [T + 1, 3]
            "style": torch.tensor(style, dtype=torch.long),
        }
