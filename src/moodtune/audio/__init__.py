"""Audio I/O, log-mel features and (later) vocoders."""

from moodtune.audio.features import LogMel, MelConfig
from moodtune.audio.io import AUDIO_EXTENSIONS, load_audio, resample, write_wav

__all__ = ["AUDIO_EXTENSIONS", "LogMel", "MelConfig", "load_audio", "resample", "write_wav"]
