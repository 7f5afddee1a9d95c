"""Exceptions that the CLI turns into one clear line and exit code 2, and the line for an operating-system error."""

import errno
import os


class MoodtuneError(Exception):
    """A user-facing error: bad arguments, bad input files, missing annotations."""


class DatasetError(MoodtuneError):
    """A dataset cannot be prepared (a required file is missing or malformed)."""


class AudioReadError(MoodtuneError):
    """An audio file cannot be used (unreadable, empty, truncated or silent)."""


class AudioTooLargeError(AudioReadError):
    """An audio file whose decoded size would pass a limit (sample rate, channels or length), refused from its
    header before it is decoded."""


class MidiReadError(MoodtuneError):
    """A MIDI file cannot be used (corrupt or without notes)."""


#: What an operating-system error means for a user, by errno.
_OS_ERRORS = {
    errno.ENOSPC: "no space left on the disk (files written before are kept)",
    errno.EDQUOT: "disk quota exceeded (files written before are kept)",
    errno.EISDIR: "is a folder; give a file path",
    errno.ENOTDIR: "a part of this path is a file, not a folder",
    errno.EEXIST: "already exists and is not a folder",
    errno.ENOENT: "no such file or folder",
    errno.EACCES: "permission denied",
    errno.EPERM: "permission denied",
    errno.EROFS: "on a read-only file system",
    errno.ENAMETOOLONG: "the name is too long",
}


def os_error_message(exc: OSError) -> str:
    """One line for an OSError: the path it concerns and what the error means (``out/x.wav: is a folder; ...``)."""
    what = _OS_ERRORS.get(exc.errno or 0) or exc.strerror or (os.strerror(exc.errno) if exc.errno else str(exc))
    return f"{exc.filename}: {what}" if exc.filename is not None else str(what)
