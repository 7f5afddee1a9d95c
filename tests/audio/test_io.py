import numpy as np
import pytest

from moodtune.audio.io import audio_info, load_audio, resample, write_wav
from moodtune.errors import AudioReadError
from tests.conftest import music_like, write_audio


@pytest.mark.parametrize("suffix", [".wav", ".flac", ".ogg", ".mp3"])
def test_load_formats_mono_float32_resampled(tmp_path, suffix):
    x = music_like(2.0, 44100)
    path = write_audio(tmp_path / f"a{suffix}", x, 44100)
    y, sr = load_audio(path, sr=22050)
    assert sr == 22050 and y.dtype == np.float32 and y.ndim == 1
    assert abs(len(y) - 44100) < 2000  # mp3 adds encoder padding
    assert np.max(np.abs(y)) <= 1.0 and np.max(np.abs(y)) > 0.1


def test_stereo_is_mixed_down_and_excerpt_is_exact(tmp_path):
    import soundfile as sf

    x = music_like(3.0, 22050)
    path = tmp_path / "s.wav"
    sf.write(str(path), np.stack([x, x], axis=1), 22050)
    y, _ = load_audio(path, start_s=1.0, end_s=2.0)
    assert len(y) == 22050
    np.testing.assert_allclose(y, x[22050:44100], atol=1e-4)


def test_write_wav_round_trip(tmp_path):
    x = music_like(1.0, 16000)
    path = write_wav(tmp_path / "o.wav", x, 16000)
    y, sr = load_audio(path)
    assert sr == 16000 and audio_info(path) == (16000, 1.0)
    np.testing.assert_allclose(y, x, atol=1e-4)


def test_resample_changes_length_by_ratio():
    x = music_like(1.0, 44100)
    assert len(resample(x, 44100, 22050)) == 22050


def test_unreadable_empty_silent_truncated_are_reported_with_the_file(tmp_path):
    bad = tmp_path / "garbage.wav"
    bad.write_bytes(b"RIFF....not really a wav file")
    with pytest.raises(AudioReadError, match=r"garbage\.wav: unreadable"):
        load_audio(bad)
    empty = write_audio(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32), 22050)
    with pytest.raises(AudioReadError, match=r"empty\.wav: empty"):
        load_audio(empty)
    silent = write_audio(tmp_path / "silent.wav", np.zeros(22050, dtype=np.float32), 22050)
    with pytest.raises(AudioReadError, match=r"silent\.wav: silent"):
        load_audio(silent)
    full = write_audio(tmp_path / "full.mp3", music_like(3.0, 44100), 44100)
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(full.read_bytes()[: full.stat().st_size // 2])
    with pytest.raises(AudioReadError, match=r"cut\.mp3: truncated"):
        load_audio(cut)


def test_fit_length_cuts_with_a_fade_and_pads_with_silence():
    import numpy as np

    from moodtune.audio.io import fit_length

    tone = np.ones(100, np.float32)
    cut = fit_length(tone, 60, fade=10)
    assert cut.shape == (60,) and cut.dtype == np.float32
    assert np.all(cut[:50] == 1.0) and cut[-1] == 0.0 and np.all(np.diff(cut[50:]) < 0)
    padded = fit_length(tone, 120, fade=10)
    assert np.all(padded[:100] == 1.0) and np.all(padded[100:] == 0.0)


def test_wrap_tail_loops_without_a_click():
    from moodtune.audio.io import wrap_tail

    sr = 8000
    t = np.arange(int(1.5 * sr)) / sr
    decay = (np.sin(2 * np.pi * 230.25 * t) * np.exp(-2 * t)).astype(np.float32)  # a release that runs on
    loop = wrap_tail(decay, sr)
    assert loop.shape == (sr,) and loop.dtype == np.float32
    twice = np.concatenate([loop, loop])
    joint = abs(float(twice[sr] - twice[sr - 1]))
    assert joint <= np.abs(np.diff(decay)).max() + 1e-6  # no bigger a step than the sound itself takes
    cut = np.concatenate([decay[:sr], decay[:sr]])
    assert abs(float(cut[sr] - cut[sr - 1])) > 5 * joint  # cutting the release instead clicks
    assert np.allclose(loop[: sr // 2], decay[: sr // 2] + decay[sr:])  # the tail sounds over the start
    assert np.array_equal(wrap_tail(decay[:100], 150)[100:], np.zeros(50, np.float32))  # short: padded


def test_long_many_channel_audio_is_decoded_in_blocks_with_bounded_memory(tmp_path):
    import tracemalloc

    import soundfile as sf

    from moodtune.audio.io import DECODE_BLOCK, load_audio, resample

    sr, seconds, channels = 96_000, 12, 8
    t = np.arange(sr * seconds) / sr
    tone = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    path = tmp_path / "wide.wav"
    with sf.SoundFile(str(path), "w", sr, channels, subtype="PCM_16") as f:
        for start in range(0, len(tone), DECODE_BLOCK):
            f.write(np.repeat(tone[start : start + DECODE_BLOCK, None], channels, axis=1))
    tracemalloc.start()
    audio, out_sr = load_audio(path, sr=22050)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    decoded_at_once = sr * seconds * channels * 4  # 37 MB: what reading the whole file at once would hold
    assert out_sr == 22050 and len(audio) == 22050 * seconds
    assert peak < decoded_at_once / 4, f"peak {peak / 1e6:.1f} MB"
    whole, _ = sf.read(str(path), dtype="float32", always_2d=True)
    expected = resample(whole.mean(axis=1), sr, 22050)  # the stream gives what resampling the whole gives
    assert np.allclose(audio, expected, atol=1e-6)


@pytest.mark.parametrize(("sr", "channels", "message"), [(384_000, 1, "384000 Hz"), (8_000, 9, "9 channels")])
def test_inputs_past_the_rate_or_channel_limit_are_refused_from_the_header(tmp_path, sr, channels, message):
    import soundfile as sf

    from moodtune.audio.io import audio_info, load_audio
    from moodtune.cli import main
    from moodtune.errors import AudioTooLargeError

    path = tmp_path / "bomb.wav"
    sf.write(str(path), np.full((sr // 20, channels), 0.5, np.float32), sr, subtype="PCM_16")
    for read in (load_audio, audio_info):
        with pytest.raises(AudioTooLargeError, match=message):
            read(path)
    assert main(["analyze", str(path)]) == 2
