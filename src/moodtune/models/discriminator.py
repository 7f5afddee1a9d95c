"""A patch discriminator over log-mel slices, for the spectrogram decoder's adversarial stage."""

from __future__ import annotations

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm


class MelDiscriminator(nn.Module):
    """Scores ``[B, 1, n_mels, frames]`` scaled log-mel patch by patch.

    Four weight-normalised convolutions (kernel 3 over mels x 5 over frames; the first three halve both axes)
    with LeakyReLU, then a 3 x 3 convolution to one logit per patch. ``forward`` returns the logits
    ``[B, 1, n_mels / 8, frames / 8]`` and the four hidden feature maps, which the decoder matches
    (feature matching) as well as fooling the logits.
    """

    def __init__(self, channels: tuple[int, ...] = (16, 32, 64, 128)) -> None:
        super().__init__()
        layers, c_in = [], 1
        for i, c_out in enumerate(channels):
            stride = 2 if i < len(channels) - 1 else 1
            conv = weight_norm(nn.Conv2d(c_in, c_out, (3, 5), stride, (1, 2)))
            layers.append(nn.Sequential(conv, nn.LeakyReLU(0.2)))
            c_in = c_out
        self.layers = nn.ModuleList(layers)
        self.out = weight_norm(nn.Conv2d(c_in, 1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """``x [B, 1, n_mels, frames]`` -> ``(logits [B, 1, H, W], features)``."""
        features = []
        for layer in self.layers:
            x = layer(x)
            features.append(x)
        return self.out(x), features
