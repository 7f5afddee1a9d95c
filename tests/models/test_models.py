"""Every model config on random input at small capacity: output shapes and a save/load round trip."""

import pytest
import torch
from safetensors.torch import load_file, save_file

from moodtune.models.spectrogram_vae import SpectrogramVAE, SpectrogramVAEConfig

CONFIGS = {
    "debug": SpectrogramVAEConfig.preset("debug", n_styles=3),
    "latent2": SpectrogramVAEConfig.preset("debug", latent_dim=2, n_styles=1),
    "small-64": SpectrogramVAEConfig.preset("small", n_mels=64, frames=64, latent_dim=16, n_styles=2),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_shapes_and_round_trip(name, tmp_path):
    cfg = CONFIGS[name]
    torch.manual_seed(0)
    model = SpectrogramVAE(cfg).eval()
    x = torch.rand(3, 1, cfg.n_mels, cfg.frames)
    mood = torch.tensor([[0.5, -0.5, 1.0], [0.0, 0.0, 0.0], [-1.0, 1.0, 1.0]])
    style = torch.tensor([0, cfg.n_styles - 1, 0])
    with torch.no_grad():
        recon, mu, logvar = model(x, mood, style)
    assert recon.shape == x.shape and mu.shape == logvar.shape == (3, cfg.latent_dim)
    assert float(recon.min()) >= 0 and float(recon.max()) <= 1
    save_file(model.state_dict(), str(tmp_path / "m.safetensors"))
    again = SpectrogramVAE(SpectrogramVAEConfig.from_dict(cfg.to_dict())).eval()
    again.load_state_dict(load_file(str(tmp_path / "m.safetensors")))
    z = torch.randn(3, cfg.latent_dim)
    torch.testing.assert_close(model.decode(z, mood, style), again.decode(z, mood, style))


def test_condition_changes_decoding():
    torch.manual_seed(0)
    model = SpectrogramVAE(CONFIGS["debug"]).eval()
    z = torch.randn(1, 8)
    happy = model.decode(z, torch.tensor([[0.8, 0.8, 1.0]]), torch.tensor([0]))
    sad = model.decode(z, torch.tensor([[-0.8, -0.8, 1.0]]), torch.tensor([0]))
    assert not torch.allclose(happy, sad)


def test_indivisible_size_is_rejected():
    with pytest.raises(ValueError, match="divisible"):
        SpectrogramVAE(SpectrogramVAEConfig.preset("small", n_mels=100))


def test_time_smoothing_removes_the_frame_ripple_and_keeps_slow_envelopes():
    from moodtune.models.spectrogram_vae import TimeSmoothing

    smooth = TimeSmoothing()
    frames = torch.arange(64, dtype=torch.float32)
    ripple = 0.5 + 0.1 * torch.cos(torch.pi * frames)  # alternates every frame
    envelope = 0.5 + 0.3 * torch.sin(2 * torch.pi * frames / 32)  # a note-scale change
    x = torch.stack([ripple, envelope]).view(2, 1, 1, 64).expand(2, 1, 3, 64)
    y = smooth(x)
    assert y.shape == x.shape
    assert torch.allclose(y[0, 0, :, 1:-1], torch.full((3, 62), 0.5), atol=1e-6)  # ripple gone
    assert (y[1, ..., 1:-1] - x[1, ..., 1:-1]).abs().max() < 0.01  # envelope kept
    assert "kernel" not in smooth.state_dict()  # not saved: runs saved before load unchanged


def test_symbolic_transformer_is_causal_and_shaped_like_the_lstm():
    from moodtune.models.symbolic import symbolic_config, symbolic_model

    torch.manual_seed(0)
    model = symbolic_model(symbolic_config("transformer", "debug", vocab_size=50, n_styles=3, seq_len=16)).eval()
    tokens = torch.randint(0, 50, (2, 16))
    mood, style = torch.rand(2, 16, 3), torch.tensor([0, 2])
    logits = model(tokens, mood, style)
    assert logits.shape == (2, 16, 50)
    changed = tokens.clone()
    changed[:, 10:] = (changed[:, 10:] + 1) % 50
    later = model(changed, mood, style)
    assert torch.allclose(logits[:, :10], later[:, :10], atol=1e-5)  # no step sees the tokens after it
    assert not torch.allclose(logits[:, 10:], later[:, 10:])
    other = mood.clone()
    other[:, 5:, 1] += 1.0  # arousal from step 5 on
    assert not torch.allclose(model(tokens, other, style)[:, 5:], logits[:, 5:])  # the condition at every step
    assert symbolic_model({k: v for k, v in symbolic_config("lstm", "debug", vocab_size=50).items() if k != "arch"})


def test_symbolic_transformer_cache_gives_the_window_logits():
    """Token by token through the key/value cache, the logits are those of the whole window read at once; past
    the context the cache keeps ``seq_len - 1`` tokens and equals a window slid along the piece."""
    from moodtune.models.symbolic import CachedDecoder, WindowDecoder, symbolic_config, symbolic_model

    torch.manual_seed(0)
    model = symbolic_model(symbolic_config("transformer", "debug", vocab_size=50, n_styles=3, seq_len=8)).eval()
    ids = torch.randint(0, 50, (20,)).tolist()
    mood = torch.rand(20, 3).tolist()
    style = torch.tensor([1])
    full = torch.log_softmax(model(torch.tensor([ids[:8]]), torch.tensor([mood[:8]]), style)[0], -1)  # [8, vocab]
    cached = CachedDecoder(model)
    with torch.no_grad():
        stepwise = torch.stack([cached.next_logits(ids[: i + 1], mood[: i + 1], style) for i in range(8)])
        assert torch.allclose(stepwise, full, atol=1e-5)
        assert len(cached.cache) == 7  # the window the next token sees, less itself
        for i in range(8, 20):
            cached.next_logits(ids[: i + 1], mood[: i + 1], style)
        assert len(cached.cache) == 7 and cached.cache.position == 20
    # one layer: keys depend on their token and position only, and rotary positions are relative, so the slid
    # cache (positions 13..20) reads exactly like a window read afresh (positions 0..7)
    one = symbolic_model(symbolic_config("transformer", "debug", vocab_size=50, n_styles=3, seq_len=8, n_layers=1))
    one.eval()
    streaming, piece, moods = CachedDecoder(one), [*ids, 3], [*mood, mood[-1]]
    with torch.no_grad():
        for i in range(21):
            streamed = streaming.next_logits(piece[: i + 1], moods[: i + 1], style)
        window = WindowDecoder(one).next_logits(piece, moods, style)
    assert torch.allclose(window, streamed, atol=1e-4)
    # a long primer is read in one call, as its last window
    assert torch.allclose(CachedDecoder(model).next_logits(ids[:8], mood[:8], style), full[-1], atol=1e-5)


@pytest.mark.parametrize("arch", ["lstm", "transformer"])
def test_guided_decoding_extrapolates_from_the_unconditioned_prediction(arch):
    """Guidance g returns u + g (c - u) of the log-probabilities with the mood (c) and with it hidden (u): g = 1
    is the plain prediction, g = 0 ignores the mood, and larger g moves further along c - u."""
    from moodtune.models.symbolic import decoder_for, symbolic_config, symbolic_model

    torch.manual_seed(0)
    model = symbolic_model(symbolic_config(arch, "debug", vocab_size=30, n_styles=2, seq_len=6)).eval()
    ids, style = torch.randint(0, 30, (6,)).tolist(), torch.tensor([1])  # one window
    happy, sad = [[0.8, 0.7, 1.0]] * 6, [[-0.8, -0.7, 1.0]] * 6

    def logp(mood):
        window = torch.tensor([ids]), torch.tensor([mood], dtype=torch.float32)
        return torch.log_softmax(model(*window, style)[0, -1], -1)

    def guided(g, mood):
        decoder = decoder_for(model, g)
        for i in range(len(ids) - 1):  # the cached decoder is fed the piece one token at a time
            decoder.next_logits(ids[: i + 1], mood[: i + 1], style)
        return decoder.next_logits(ids, mood, style)

    with torch.no_grad():
        c, u = logp(happy), logp([[0.0, 0.0, 0.0]] * 6)
        assert torch.allclose(guided(1.0, happy), c, atol=1e-4)
        assert torch.allclose(guided(3.0, happy), u + 3.0 * (c - u), atol=1e-4)
        assert torch.allclose(guided(0.0, happy), guided(0.0, sad), atol=1e-5)  # the mood no longer counts


def test_lstm_carried_state_reads_windows_like_training():
    """The LSTM decoder carries its state, restarting from zero when the window is full: each prediction equals
    the network reading its current window from the start, and that window holds from seq_len // 2 to seq_len
    tokens once the piece is longer than one window."""
    from moodtune.models.symbolic import RestartingDecoder, symbolic_config, symbolic_model

    torch.manual_seed(0)
    model = symbolic_model(symbolic_config("lstm", "debug", vocab_size=40, n_styles=2, seq_len=8)).eval()
    ids, mood, style = torch.randint(0, 40, (30,)).tolist(), torch.rand(30, 3).tolist(), torch.tensor([1])
    decoder, lengths = RestartingDecoder(model), []
    with torch.no_grad():
        for n in range(1, 31):
            got = decoder.next_logits(ids[:n], mood[:n], style)
            window = torch.tensor([ids[decoder.start : n]]), torch.tensor([mood[decoder.start : n]])
            assert torch.allclose(got, torch.log_softmax(model(*window, style)[0, -1], -1), atol=1e-5)
            lengths.append(n - decoder.start)
    assert lengths[:8] == list(range(1, 9)) and min(lengths[8:]) >= 4 and max(lengths) == 8
