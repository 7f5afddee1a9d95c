"""Load, resample and write audio: mono float32 in [-1, 1] (the package's audio contract)."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from moodtune.errors import AudioReadError, MoodtuneError
from moodtune.fsutil import atomic_path

AUDIO_EXTENSIONS = (".wav", ".mp3", ".ogg", ".flac", ".aiff", ".aif")

#: A file whose peak stays below this (about -80 dBFS) is treated as silent.
SILENCE_PEAK = 1e-4


def resample(audio: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """Resample ``audio`` ``[T]`` from ``sr_in`` to ``sr_out`` Hz with soxr (high quality)."""
    if sr_in == sr_out:
        return audio.astype(np.float32, copy=False)
    return soxr.resample(audio.astype(np.float32, copy=False), sr_in, sr_out, quality="HQ").astype(np.float32)


def load_audio(
    path: str | os.PathLike[str],
    sr: int | None = None,
    start_s: float = 0.0,
    end_s: float | None = None,
    check_silence: bool = True,
) -> tuple[np.ndarray, int]:
    """Read ``path`` as mono float32 ``[T]``, optionally a ``[start_s, end_s)`` excerpt, resampled to ``sr``.

    Returns ``(audio, sample_rate)``. Raises :class:`AudioReadError` whose message names the file
    and the reason: unreadable, empty, truncated (fewer frames than its header declares), not
    finite, or silent.
    """
    path = Path(path)
    if not path.is_file():
        what = (
            "a folder, not an audio file"
            if path.is_dir()
            else "not a regular file"
            if path.exists()
            else "no such file"
        )
        raise AudioReadError(f"{path}: {what}")
    try:
        with _quiet_native_stderr():
            opened = sf.SoundFile(str(path))
        with opened as f:
            native_sr = f.samplerate
            declared = f.frames
            if declared <= 0:
                raise AudioReadError(f"{path}: empty audio file (0 frames)")
            first = round(start_s * native_sr)
            last = declared if end_s is None else min(declared, round(end_s * native_sr))
            if first >= last:
                raise AudioReadError(f"{path}: excerpt {start_s:.2f}-{end_s} s lies outside the file")
            f.seek(first)
            data = f.read(last - first, dtype="float32", always_2d=True)
    except AudioReadError:
        raise
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as exc:
        raise AudioReadError(f"{path}: unreadable audio ({_short(exc)})") from exc
    if data.shape[0] == 0:
        raise AudioReadError(f"{path}: empty audio (no frames could be decoded)")
    if data.shape[0] < (last - first) * 0.98:
        raise AudioReadError(f"{path}: truncated audio (decoded {data.shape[0]} of {last - first} declared frames)")
    audio = data.mean(axis=1)
    if not np.all(np.isfinite(audio)):
        raise AudioReadError(f"{path}: audio contains NaN or infinite samples")
    if check_silence and float(np.max(np.abs(audio))) < SILENCE_PEAK:
        raise AudioReadError(f"{path}: silent audio (peak below -80 dBFS)")
    out_sr = native_sr if sr is None else sr
    return resample(audio, native_sr, out_sr), out_sr


def audio_info(path: str | os.PathLike[str]) -> tuple[int, float]:
    """``(sample_rate, duration_seconds)`` from the header of ``path``; :class:`AudioReadError` if unreadable."""
    try:
        with _quiet_native_stderr():
            info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioReadError(f"{path}: unreadable audio ({_short(exc)})") from exc
    return info.samplerate, info.frames / max(info.samplerate, 1)


def fit_length(audio: np.ndarray, n: int, fade: int = 0) -> np.ndarray:
    """``audio [T]`` as exactly ``n`` float32 samples: cut (the last ``fade`` samples faded out, so a sound cut
    short does not click) or padded with silence."""
    out = np.pad(audio[:n], (0, max(0, n - len(audio)))).astype(np.float32)
    if len(audio) > n and fade > 0:
        k = min(fade, n)
        out[n - k :] *= np.linspace(1.0, 0.0, k, dtype=np.float32)
    return out


def wrap_tail(audio: np.ndarray, n: int) -> np.ndarray:
    """``audio [T]`` as exactly ``n`` float32 samples that loop: what sounds past sample ``n`` (a release tail) is
    added onto the start, so the result played twice in a row continues across the joint as ``audio`` continued
    past ``n``, with no click. Shorter audio is padded with silence."""
    out = fit_length(audio, n)
    for start in range(n, len(audio), max(n, 1)):
        part = audio[start : start + n]
        out[: len(part)] += part
    return out


def peak_gain(audio: np.ndarray, ceiling: float = 0.99) -> float:
    """The gain that brings ``audio``'s peak down to ``ceiling`` (1.0 when it is already below)."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    return ceiling / peak if peak > ceiling else 1.0


def write_wav(path: str | os.PathLike[str], audio: np.ndarray, sr: int, subtype: str = "PCM_16") -> Path:
    """Write mono ``audio`` ``[T]`` (clipped to [-1, 1]) as WAV, atomically. Returns the path."""
    path = Path(path)
    audio = np.clip(np.asarray(audio, dtype=np.float32).reshape(-1), -1.0, 1.0)
    try:
        with atomic_path(path) as tmp:
            sf.write(str(tmp), audio, sr, subtype=subtype, format="WAV")
    except sf.LibsndfileError as exc:  # libsndfile says "System error." for a full disk
        needed = audio.size * {"PCM_16": 2, "PCM_24": 3}.get(subtype, 4) + 4096
        if shutil.disk_usage(path.parent).free < needed:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path)) from exc
        raise MoodtuneError(f"{path}: cannot write audio ({_short(exc)})") from exc
    return path


@contextlib.contextmanager
def _quiet_native_stderr() -> Iterator[None]:
    """While a file is opened on the main thread, drop what C decoders print on stderr (libmpg123 warns about
    a broken MP3 before moodtune can say so in one line). Other threads are left alone: file descriptor 2 is
    shared by the whole process."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    line = text[-1] if text else type(exc).__name__
    if "possibly a pipe" in line or "Format not recognised" in line:
        return "not a recognised audio format (WAV, FLAC, OGG, MP3, AIFF)"
    return line
