"""Exceptions that the CLI turns into one clear line and exit code 2."""


class MoodtuneError(Exception):
    """A user-facing error: bad arguments, bad input files, missing annotations."""


class DatasetError(MoodtuneError):
    """A dataset cannot be prepared (a required file is missing or malformed)."""


class AudioReadError(MoodtuneError):
    """An audio file cannot be used (unreadable, empty, truncated or silent)."""


class MidiReadError(MoodtuneError):
    """A MIDI file cannot be used (corrupt or without notes)."""
