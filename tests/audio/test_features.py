import librosa
import numpy as np
import torch

from moodtune.audio.features import LogMel, MelConfig, mel_filterbank


def test_filterbank_matches_librosa():
    ours = mel_filterbank(22050, 2048, 128)
    ref = librosa.filters.mel(sr=22050, n_fft=2048, n_mels=128, norm=None)
    np.testing.assert_allclose(ours, ref, atol=1e-6)


def test_log_mel_shape_range_and_frames():
    cfg = MelConfig()
    x = torch.randn(2, 3 * cfg.sr) * 0.1
    y = LogMel(cfg)(x)
    assert y.shape == (2, 128, cfg.frames(3 * cfg.sr))
    assert float(y.min()) >= 0.0 and float(y.max()) <= 1.0
    # one slice of the spectrogram engine: 128 frames = 127 hops
    assert cfg.frames(127 * cfg.hop_length) == 128


def test_log_mel_matches_librosa_reference():
    cfg = MelConfig()
    rng = np.random.default_rng(0)
    x = (0.2 * rng.standard_normal(cfg.sr)).astype(np.float32)
    ours = LogMel(cfg)(x).numpy()
    window_sum = np.hanning(cfg.n_fft + 1)[:-1].sum()
    mel = (
        librosa.feature.melspectrogram(
            y=x,
            sr=cfg.sr,
            n_fft=cfg.n_fft,
            hop_length=cfg.hop_length,
            n_mels=cfg.n_mels,
            norm=None,
            pad_mode="constant",
        )
        / window_sum**2
    )
    ref = (np.clip(10 * np.log10(np.maximum(mel, 1e-8)), -80, 0) + 80) / 80
    np.testing.assert_allclose(ours, ref, atol=1e-4)


def test_sine_lands_in_its_mel_band_and_loudness_is_kept():
    cfg = MelConfig()
    t = np.arange(cfg.sr) / cfg.sr
    logmel = LogMel(cfg)
    loud = logmel(np.sin(2 * np.pi * 1000 * t).astype(np.float32)).numpy()
    soft = logmel(0.1 * np.sin(2 * np.pi * 1000 * t).astype(np.float32)).numpy()
    centre = np.argmax(mel_filterbank(cfg.sr, cfg.n_fft, cfg.n_mels)[:, int(1000 / (cfg.sr / cfg.n_fft))])
    assert abs(int(np.argmax(loud[:, 10])) - int(centre)) <= 1
    # -20 dB of amplitude is 20/80 = 0.25 lower on the scaled axis
    assert (
        loud[centre, 10] - soft[centre, 10] == np.float32(0.25)
        or abs(loud[centre, 10] - soft[centre, 10] - 0.25) < 1e-3
    )


def test_scaled_db_inverse():
    logmel = LogMel()
    s = torch.linspace(0, 1, 11)
    np.testing.assert_allclose(logmel.power_to_scaled_db(logmel.scaled_db_to_power(s)).numpy(), s.numpy(), atol=1e-5)
