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

from moodtune.errors import AudioReadError, AudioTooLargeError, MoodtuneError
from moodtune.fsutil import atomic_path

AUDIO_EXTENSIONS = (".wav", ".mp3", ".ogg", ".flac", ".aiff", ".aif")

#: A file whose peak stays below this (about -80 dBFS) is treated as silent.
SILENCE_PEAK = 1e-4
#: The highest sample rate and the most channels an input may have (read from its header, before decoding).
MAX_INPUT_SR = 192_000
MAX_INPUT_CHANNELS = 8
#: Frames decoded at a time: an input is mixed down to mono and resampled block by block, so decoding holds
#: one block of every channel (at most 16 MB at the limits above) beside the mono result.
DECODE_BLOCK = 1 << 16


def check_decodable(path: str | os.PathLike[str], sr: int, channels: int) -> None:
    """Refuse (:class:`AudioTooLargeError`) an input whose header declares more than :data:`MAX_INPUT_SR` Hz or
    :data:`MAX_INPUT_CHANNELS` channels."""
    if sr > MAX_INPUT_SR or sr <= 0:
        raise AudioTooLargeError(f"{path}: {sr} Hz; inputs are read at up to {MAX_INPUT_SR} Hz")
    if channels > MAX_INPUT_CHANNELS or channels <= 0:
        raise AudioTooLargeError(f"{path}: {channels} channels; inputs have at most {MAX_INPUT_CHANNELS}")


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
    finite, or silent; :class:`AudioTooLargeError` past :data:`MAX_INPUT_SR` or :data:`MAX_INPUT_CHANNELS`.
    The file is decoded, mixed down and resampled in blocks of :data:`DECODE_BLOCK` frames: memory grows with
    the mono result only.
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
            check_decodable(path, native_sr, f.channels)
            if declared <= 0:
                raise AudioReadError(f"{path}: empty audio file (0 frames)")
            first = round(start_s * native_sr)
            last = declared if end_s is None else min(declared, round(end_s * native_sr))
            if first >= last:
                raise AudioReadError(f"{path}: excerpt {start_s:.2f}-{end_s} s lies outside the file")
            f.seek(first)
            out_sr = native_sr if sr is None else sr
            decoded, parts, peak = _decode_mono(f, last - first, native_sr, out_sr)
    except AudioReadError:
        raise
    except (sf.LibsndfileError, RuntimeError, OSError, ValueError) as exc:
        raise AudioReadError(f"{path}: unreadable audio ({_short(exc)})") from exc
    if decoded == 0:
        raise AudioReadError(f"{path}: empty audio (no frames could be decoded)")
    if decoded < (last - first) * 0.98:
        raise AudioReadError(f"{path}: truncated audio (decoded {decoded} of {last - first} declared frames)")
    if not np.isfinite(peak):
        raise AudioReadError(f"{path}: audio contains NaN or infinite samples")
    if check_silence and peak < SILENCE_PEAK:
        raise AudioReadError(f"{path}: silent audio (peak below -80 dBFS)")
    return np.concatenate(parts).astype(np.float32, copy=False), out_sr


def _decode_mono(f: sf.SoundFile, frames: int, sr_in: int, sr_out: int) -> tuple[int, list[np.ndarray], float]:
    """Read up to ``frames`` frames of ``f`` block by block, each mixed down to mono and resampled from ``sr_in``
    to ``sr_out`` as a stream (the same samples as resampling the whole at once): ``(frames decoded, mono
    blocks, peak)``; the peak is NaN where a sample is not finite."""
    stream = None if sr_in == sr_out else soxr.ResampleStream(sr_in, sr_out, 1, dtype="float32", quality="HQ")
    parts: list[np.ndarray] = []
    decoded, peak = 0, 0.0
    while decoded < frames:
        block = f.read(min(DECODE_BLOCK, frames - decoded), dtype="float32", always_2d=True)
        if not len(block):
            break
        decoded += len(block)
        mono = block.mean(axis=1)
        peak = max(peak, float(np.max(np.abs(mono)))) if np.all(np.isfinite(mono)) else float("nan")
        parts.append(mono if stream is None else stream.resample_chunk(mono))
    if stream is not None:
        parts.append(stream.resample_chunk(np.zeros(0, np.float32), last=True))
    return decoded, parts, peak


def audio_info(path: str | os.PathLike[str]) -> tuple[int, float]:
    """``(sample_rate, duration_seconds)`` from the header of ``path``; :class:`AudioReadError` if unreadable,
    :class:`AudioTooLargeError` past the sample-rate or channel limit (:func:`check_decodable`)."""
    try:
        with _quiet_native_stderr():
            info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise AudioReadError(f"{path}: unreadable audio ({_short(exc)})") from exc
    check_decodable(path, info.samplerate, info.channels)
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
