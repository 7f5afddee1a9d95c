"""Log-mel spectrogram (the package's feature contract) computed with torch.

128 mel bands, n_fft 2048, hop 512 at 22 050 Hz. Power is measured against an absolute
reference (the STFT is normalised by the window sum, so a full-scale sine sits near 0 dB),
converted to dB, clipped to [-80, 0] and scaled to [0, 1]. The absolute reference keeps
loudness in the feature: a soft rendering really is darker than a loud one.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import torch


@dataclass(frozen=True)
class MelConfig:
    """Parameters of the log-mel transform."""

    sr: int = 22050
    n_fft: int = 2048
    hop_length: int = 512
    n_mels: int = 128
    fmin: float = 0.0
    fmax: float | None = None
    top_db: float = 80.0

    def to_dict(self) -> dict[str, Any]:
        """Plain dict (stored in caches and checkpoints)."""
        return asdict(self)

    def frames(self, n_samples: int) -> int:
        """Number of frames the (centred) STFT gives for ``n_samples`` samples."""
        return 1 + n_samples // self.hop_length


def hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney mel scale (linear below 1 kHz, logarithmic above), as librosa's default."""
    hz = np.asarray(hz, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(hz >= min_log_hz, min_log_mel + np.log(np.maximum(hz, 1e-10) / min_log_hz) / logstep, hz / f_sp)


def mel_to_hz(mel: np.ndarray) -> np.ndarray:
    """Inverse of :func:`hz_to_mel`."""
    mel = np.asarray(mel, dtype=np.float64)
    f_sp, min_log_hz = 200.0 / 3, 1000.0
    min_log_mel, logstep = min_log_hz / f_sp, np.log(6.4) / 27.0
    return np.where(mel >= min_log_mel, min_log_hz * np.exp(logstep * (mel - min_log_mel)), f_sp * mel)


def mel_filterbank(sr: int, n_fft: int, n_mels: int, fmin: float = 0.0, fmax: float | None = None) -> np.ndarray:
    """Triangular mel filters with peak 1 ``[n_mels, n_fft // 2 + 1]`` (librosa ``norm=None``, Slaney scale)."""
    fmax = sr / 2 if fmax is None else fmax
    fft_freqs = np.linspace(0, sr / 2, n_fft // 2 + 1)
    mel_f = mel_to_hz(np.linspace(hz_to_mel(fmin), hz_to_mel(fmax), n_mels + 2))
    fdiff = np.diff(mel_f)
    ramps = mel_f[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    return np.maximum(0.0, np.minimum(lower, upper)).astype(np.float32)


class LogMel:
    """Waveform -> scaled log-mel. Holds the mel basis and window; device follows the input."""

    def __init__(self, config: MelConfig | None = None) -> None:
        self.config = config or MelConfig()
        c = self.config
        basis = mel_filterbank(c.sr, c.n_fft, c.n_mels, c.fmin, c.fmax)
        self.mel_basis = torch.from_numpy(basis.astype(np.float32))  # [n_mels, n_fft // 2 + 1]
        self.window = torch.hann_window(c.n_fft)
        self._scale = float(self.window.sum())

    def power_spectrogram(self, audio: torch.Tensor) -> torch.Tensor:
        """``audio`` ``[..., T]`` -> linear power ``[..., n_fft // 2 + 1, frames]``."""
        c = self.config
        shape = audio.shape
        flat = audio.reshape(-1, shape[-1]).float()
        spec = torch.stft(
            flat,
            n_fft=c.n_fft,
            hop_length=c.hop_length,
            window=self.window.to(flat.device),
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        power = (spec.abs() / self._scale) ** 2
        return power.reshape(*shape[:-1], *power.shape[-2:])

    def power_to_scaled_db(self, mel_power: torch.Tensor) -> torch.Tensor:
        """Mel power -> dB clipped to [-top_db, 0] -> [0, 1]."""
        top = self.config.top_db
        db = 10.0 * torch.log10(torch.clamp(mel_power, min=10.0 ** (-top / 10.0)))
        return (torch.clamp(db, -top, 0.0) + top) / top

    def scaled_db_to_power(self, scaled: torch.Tensor) -> torch.Tensor:
        """Inverse of :meth:`power_to_scaled_db` (exact inside the clipping range)."""
        top = self.config.top_db
        return 10.0 ** ((scaled * top - top) / 10.0)

    def __call__(self, audio: torch.Tensor | np.ndarray) -> torch.Tensor:
        """``audio`` ``[..., T]`` at ``config.sr`` -> scaled log-mel ``[..., n_mels, frames]`` in [0, 1]."""
        if isinstance(audio, np.ndarray):
            audio = torch.from_numpy(np.ascontiguousarray(audio, dtype=np.float32))
        power = self.power_spectrogram(audio)
        mel = torch.matmul(self.mel_basis.to(power.device), power)
        return self.power_to_scaled_db(mel)


def rms_db(audio: torch.Tensor) -> torch.Tensor:
    """RMS level in dB (full scale = 0 dB) of each of ``B`` waveforms ``[B, ...]`` -> ``[B]``."""
    return 10.0 * torch.log10(audio.double().pow(2).flatten(1).mean(dim=1) + 1e-10).to(audio.dtype)
