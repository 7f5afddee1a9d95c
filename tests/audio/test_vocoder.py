import numpy as np
import pytest
import torch

from moodtune.audio.features import LogMel, MelConfig
from moodtune.audio.vocoder import GriffinLimVocoder, spectral_convergence
from moodtune.engines.sampling import crossfade_slices
from tests.conftest import music_like


def test_mel_inversion_fits_the_mel_spectrogram():
    cfg = MelConfig()
    logmel = LogMel(cfg)
    power = logmel.power_spectrogram(torch.from_numpy(music_like(2.0, cfg.sr)))
    mel = logmel.mel_basis @ power
    voc = GriffinLimVocoder(cfg)
    est = voc.mel_to_power(mel)
    assert float(est.min()) >= 0
    assert float(torch.linalg.norm(logmel.mel_basis @ est - mel) / torch.linalg.norm(mel)) < 0.01


def test_vocoder_recovers_a_known_signals_magnitude_spectrum():
    cfg = MelConfig()
    sr = cfg.sr
    t = np.arange(2 * sr) / sr
    x = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.2 * np.sin(2 * np.pi * 1320 * t)).astype(np.float32)
    logmel = LogMel(cfg)
    scaled = logmel(x)
    y = GriffinLimVocoder(cfg, n_iter=32)(scaled, length=len(x)).numpy()
    assert y.shape == x.shape and np.all(np.isfinite(y))
    # the magnitude spectrum of the whole signal keeps its two peaks at the right frequencies and levels
    spec_x, spec_y = np.abs(np.fft.rfft(x)), np.abs(np.fft.rfft(y))
    freqs = np.fft.rfftfreq(len(x), 1 / sr)
    for f0 in (440, 1320):
        band = (freqs > f0 - 30) & (freqs < f0 + 30)
        assert abs(freqs[band][np.argmax(spec_y[band])] - f0) < 15
        energy_ratio = float(np.sum(spec_y[band] ** 2) / np.sum(spec_x[band] ** 2))
        assert 0.5 < energy_ratio < 2.0
    mag = lambda a: torch.sqrt(logmel.scaled_db_to_power(logmel(a)))  # noqa: E731
    assert spectral_convergence(mag(x), mag(y)) < 0.2


def test_vocoder_is_batched_and_seeded():
    cfg = MelConfig()
    scaled = torch.rand(2, cfg.n_mels, 40) * 0.5
    voc = GriffinLimVocoder(cfg, n_iter=4, nnls_iter=5)
    a, b = voc(scaled), voc(scaled)
    assert a.shape == (2, 39 * cfg.hop_length)
    torch.testing.assert_close(a, b)


def test_crossfade_weights_sum_to_one_and_lengths():
    slices = torch.ones(5, 3, 20)
    joined = crossfade_slices(slices, overlap=4)
    assert joined.shape == (3, 5 * 20 - 4 * 4)
    torch.testing.assert_close(joined, torch.ones_like(joined))
    ramp = torch.stack([torch.zeros(3, 20), torch.ones(3, 20)])
    mid = crossfade_slices(ramp, overlap=4)[0, 16:20]
    assert torch.all(mid[1:] > mid[:-1])  # a smooth ramp, no step


@pytest.mark.parametrize("length", [None, 3000, 4000])
@pytest.mark.parametrize("hop", [512, 300])
def test_overlap_add_istft_matches_torch_istft(length, hop):
    from moodtune.audio.vocoder import overlap_add_istft

    window = torch.hann_window(2048)
    spec = torch.stft(torch.randn(2, 4000), 2048, hop, window=window, center=True, return_complex=True)
    expected = torch.istft(spec, 2048, hop, window=window, center=True, length=length)
    got = overlap_add_istft(spec, window, hop, length)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.allclose(overlap_add_istft(spec[0], window, hop, length), expected[0], atol=1e-5)  # unbatched


def test_unit_phase_keeps_the_angle_and_zero():
    from moodtune.audio.vocoder import unit_phase_

    z = torch.tensor([3 + 4j, -2j, 0j], dtype=torch.complex64)
    angles = torch.angle(z.clone())
    out = unit_phase_(z)
    assert out is z  # in place
    assert torch.allclose(out[:2].abs(), torch.ones(2)) and out[2] == 0
    assert torch.allclose(torch.angle(out[:2]), angles[:2])
