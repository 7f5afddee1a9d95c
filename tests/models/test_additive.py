import numpy as np
import pytest
import torch

from moodtune.models.additive import SemitoneBank, semitone_frequencies
from moodtune.models.conditioning import FiLM


def test_semitones_are_equal_tempered_and_stay_below_the_ceiling():
    f = semitone_frequencies(8000, low_midi=33)
    assert f[0] == pytest.approx(55.0)
    assert torch.allclose(f[1:] / f[:-1], torch.full((len(f) - 1,), 2 ** (1 / 12), dtype=f.dtype))
    assert f[-1] < 0.45 * 8000 <= f[-1] * 2 ** (1 / 12)
    with pytest.raises(ValueError, match="no room"):
        semitone_frequencies(1000, low_midi=100)


def test_one_oscillator_sounds_its_pitch():
    sr, samples = 8000, 8000
    bank = SemitoneBank(sr, samples, low_midi=33)
    amplitudes = torch.zeros(1, bank.size, 11)
    a4 = 69 - 33
    amplitudes[0, a4] = 0.5
    audio = bank(amplitudes)[0, 0].numpy()
    assert audio.shape == (samples,)
    spectrum = np.abs(np.fft.rfft(audio))
    assert np.fft.rfftfreq(samples, 1 / sr)[spectrum.argmax()] == pytest.approx(440.0, abs=1.0)
    assert np.sqrt(np.mean(audio**2)) == pytest.approx(0.5 / np.sqrt(2), rel=0.01)
    assert bank(torch.zeros(1, bank.size, 11)).abs().max() == 0


def test_film_starts_as_the_identity():
    film = FiLM(cond_dim=5, channels=3)
    h = torch.randn(2, 3, 7)
    assert torch.equal(film(h, torch.randn(2, 5)), h)
