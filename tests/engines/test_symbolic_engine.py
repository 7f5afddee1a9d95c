import dataclasses
import json

import numpy as np
import pretty_midi
import pytest
import torch

from moodtune.cli import main
from moodtune.data import prepare
from moodtune.engines.base import Request, load_engine
from moodtune.engines.symbolic import SymbolicOptions, filter_logits
from moodtune.errors import MidiReadError, MoodtuneError
from moodtune.mood import Mood, Trajectory
from moodtune.training.recipe import train
from moodtune.training.symbolic import SymbolicTrainConfig
from tests.conftest import write_midi


def every_note(pm: pretty_midi.PrettyMIDI) -> list[pretty_midi.Note]:
    """The notes of every track, by onset then pitch."""
    return sorted((n for inst in pm.instruments for n in inst.notes), key=lambda n: (n.start, n.pitch))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("sym_builtin")
    prepare("builtin", None, out, clip_seconds=3.0, limit=4, workers=1, progress=False)
    return out


@pytest.fixture(scope="module")
def run_dir(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("sym_run")
    train(SymbolicTrainConfig(data=str(data_dir), out=str(out), epochs=3, size="debug", batch_size=32), progress=False)
    return out


def test_training_reports_perplexity_and_loss_goes_down(run_dir):
    import json

    config = json.loads((run_dir / "config.json").read_text())
    assert config["engine"] == "symbolic" and config["tokenizer"]["kind"] == "timed"
    results = config["results"]
    assert 1 < results["val_perplexity"] < len(config["tokenizer"]["vocabulary"])
    rows = [line.split(",") for line in next(run_dir.glob("logs/version_*/metrics.csv")).read_text().splitlines()]
    col = rows[0].index("val/loss")
    val = [float(r[col]) for r in rows[1:] if len(r) > col and r[col]]
    assert val[-1] < val[0]


def test_generate_notes_seconds_and_reproducibility(run_dir):
    engine = load_engine(run_dir)
    by_notes = engine.generate(Request(mood=Mood.named("happy"), seed=1, options=SymbolicOptions(notes=30)))
    assert by_notes.metadata["notes"] >= 30 and isinstance(by_notes.midi, pretty_midi.PrettyMIDI)
    by_time = engine.generate(Request(mood=Mood.named("sad"), seconds=6, seed=1))
    onsets = [n.start for n in every_note(by_time.midi)]
    assert max(onsets) < 6.0 and np.all(np.isfinite(by_time.audio)) and by_time.audio.size > 0
    again = engine.generate(Request(mood=Mood.named("happy"), seed=1, options=SymbolicOptions(notes=30)))
    assert [n.pitch for n in every_note(again.midi)] == [n.pitch for n in every_note(by_notes.midi)]


def test_a_request_without_a_style_writes_in_one_the_model_knows(run_dir):
    """The unknown style is never trained: with no style asked, the seed draws one of the model's styles."""
    engine = load_engine(run_dir)
    drawn = {engine.with_style(Request(mood=Mood.named("calm"), seed=s)).style for s in range(20)}
    assert drawn <= set(engine.styles[1:]) and len(drawn) > 1
    request = Request(mood=Mood.named("calm"), seconds=4, seed=7)
    style = engine.with_style(request).style
    assert engine.generate(request).metadata["style"] == style
    asked = dataclasses.replace(request, style=style)
    assert engine.generate_tokens(request) == engine.generate_tokens(asked)
    assert engine.with_style(asked) == asked


def test_guidance_needs_a_model_trained_with_mood_dropout(run_dir):
    engine = load_engine(run_dir)  # trained without mood dropout
    plain = Request(mood=Mood.named("happy"), seconds=3, seed=2)
    assert engine.generate(plain).metadata["guidance"] == 1.0
    with pytest.raises(MoodtuneError, match="--mood-dropout"):
        engine.generate(dataclasses.replace(plain, options=SymbolicOptions(guidance=2.0)))
    with pytest.raises(MoodtuneError, match="guidance must lie in"):
        SymbolicOptions(guidance=-1.0)
    same = engine.generate_tokens(dataclasses.replace(plain, options=SymbolicOptions(guidance=1.0)))
    assert same == engine.generate_tokens(plain)


def test_mood_changes_the_notes_and_a_trajectory_works(run_dir):
    engine = load_engine(run_dir)
    tokens = torch.tensor([engine.tokenizer.ids(["<bos>", "VEL_8", "PITCH_60", "DUR_4", "SHIFT_4"])])

    def log_probs(mood):
        va = torch.tensor([[[mood.valence, mood.arousal, 1.0]] * tokens.shape[1]])
        with torch.no_grad():
            return torch.log_softmax(engine.model(tokens, va, torch.tensor([0]))[0, -1], dim=-1)

    assert float((log_probs(Mood.named("happy")) - log_probs(Mood.named("sad"))).abs().max()) > 1e-4
    assert engine.generate_tokens(Request(trajectory=Trajectory.parse("sad:0,happy:5"), seconds=5, seed=2))


def test_sampling_filters():
    logits = torch.tensor([1.0, 3.0, 2.0, 0.0])
    k = filter_logits(logits, top_k=2)
    assert torch.isinf(k[[0, 3]]).all() and torch.isfinite(k[[1, 2]]).all()
    p = filter_logits(logits, top_p=0.5)  # the top token alone holds 0.66 of the mass
    assert torch.isfinite(p[1]) and torch.isinf(p[[0, 2, 3]]).all()
    assert torch.isfinite(filter_logits(logits, top_p=1.0)).all()


def test_cli_writes_midi_audio_score_and_piano_roll(run_dir, tmp_path):
    out = tmp_path / "calm.mid"
    assert main(["generate", "--checkpoint", str(run_dir), "--mood", "calm", "--notes", "20", "--out", str(out)]) == 0
    for suffix in (".mid", ".wav", ".musicxml", ".svg", ".png"):
        assert out.with_suffix(suffix).stat().st_size > 100, suffix
    assert "<svg" in out.with_suffix(".svg").read_text()[:2000]


def test_primer_is_continued_and_bad_primers_are_reported(run_dir, tmp_path, capsys):
    engine = load_engine(run_dir)
    primer = write_midi(tmp_path / "primer.mid", [60, 62, 64, 65, 67])
    tokens = engine.generate_tokens(
        Request(mood=Mood.named("calm"), options=SymbolicOptions(notes=10, primer=str(primer)))
    )
    assert tokens[:5] == engine.primer_tokens(str(primer))[:5]
    bad = tmp_path / "bad.mid"
    bad.write_bytes(b"not midi at all")
    with pytest.raises(MidiReadError, match="corrupt"):
        engine.generate(Request(mood=Mood.named("calm"), options=SymbolicOptions(notes=5, primer=str(bad))))
    empty = tmp_path / "empty.mid"
    pretty_midi.PrettyMIDI().write(str(empty))
    args = [
        "generate",
        "--checkpoint",
        str(run_dir),
        "--mood",
        "calm",
        "--notes",
        "5",
        "--out",
        str(tmp_path / "x.mid"),
    ]
    assert main([*args, "--primer", str(empty)]) == 2
    assert "no notes" in capsys.readouterr().err


def test_vocabulary_mismatch_with_notes_tokens(data_dir, tmp_path):
    out = tmp_path / "notes_run"
    train(SymbolicTrainConfig(data=str(data_dir), out=str(out), tokens="notes", epochs=1, size="debug"), progress=False)
    engine = load_engine(out)
    odd = write_midi(tmp_path / "odd.mid", [22, 23])  # A0, B-0 appear nowhere in the corpus
    with pytest.raises(MidiReadError, match="do not match"):
        engine.primer_tokens(str(odd))
    result = engine.generate(Request(mood=Mood.named("happy"), seed=0, options=SymbolicOptions(notes=12)))
    assert len(every_note(result.midi)) >= 12


def test_request_rejects_bad_sampling_options():
    with pytest.raises(MoodtuneError):
        SymbolicOptions(top_p=1.5)
    with pytest.raises(MoodtuneError):
        SymbolicOptions(top_k=0)


def test_symbolic_resume(data_dir, tmp_path):
    out = tmp_path / "resume"
    cfg = SymbolicTrainConfig(data=str(data_dir), out=str(out), epochs=1, size="debug", batch_size=32)
    assert train(cfg, progress=False).flat()["epochs"] == 1
    with pytest.raises(MoodtuneError, match="--resume"):
        train(cfg, progress=False).flat()
    cfg.epochs = 2
    assert train(dataclasses.replace(cfg, resume=True), progress=False).flat()["epochs"] == 2
    # a run whose saved tokens differ from what its data gives now (e.g. an older token layout) is refused
    saved = json.loads((out / "train_config.json").read_text())
    saved["tokenizer"]["vocabulary"] = saved["tokenizer"]["vocabulary"][:-1]
    (out / "train_config.json").write_text(json.dumps(saved))
    with pytest.raises(MoodtuneError, match=r"vocabulary.*start a new run"):
        train(dataclasses.replace(cfg, resume=True, epochs=3), progress=False)


def test_beat_tokens_train_and_generate_bars_on_the_grid(data_dir, tmp_path):
    """With ``--tokens beats`` the loss goes down and the music is written in bars: the MIDI carries the decoded
    tempo map and meter, every onset lies on the sixteenth-note grid, and no note outlasts the asked length."""
    import json

    out = tmp_path / "beats"
    cfg = SymbolicTrainConfig(data=str(data_dir), out=str(out), tokens="beats", epochs=3, size="debug", seq_len=64)
    train(cfg, progress=False)
    config = json.loads((out / "config.json").read_text())
    assert config["tokenizer"]["kind"] == "beats"
    rows = [line.split(",") for line in next(out.glob("logs/version_*/metrics.csv")).read_text().splitlines()]
    col = rows[0].index("val/loss")
    val = [float(r[col]) for r in rows[1:] if len(r) > col and r[col]]
    assert val[-1] < val[0]

    result = load_engine(out).generate(Request(mood=Mood.named("happy"), seconds=8, seed=2))
    pm = result.midi
    assert pm.time_signature_changes and pm.time_signature_changes[0].denominator == 4
    sixteenth = pm.resolution / 4  # ticks: the tempo may change at any bar line, the beat grid stays
    onsets = np.array([pm.time_to_tick(n.start) for n in every_note(pm)]) / sixteenth
    assert onsets.size > 0 and np.allclose(onsets, np.round(onsets), atol=1e-2)
    assert max(n.end for n in every_note(pm)) <= 8.0 + 1e-6


def test_transformer_trains_and_generates_past_its_context(data_dir, tmp_path):
    """``--arch transformer``: the loss goes down, a piece longer than the context is written with a sliding
    window, and a trajectory still steers it (the condition is read at every step)."""
    import json

    out = tmp_path / "transformer"
    cfg = SymbolicTrainConfig(
        data=str(data_dir), out=str(out), arch="transformer", tokens="beats", epochs=3, size="debug", seq_len=32
    )
    train(cfg, progress=False)
    config = json.loads((out / "config.json").read_text())
    assert config["model"]["arch"] == "transformer" and config["model"]["seq_len"] == 32
    rows = [line.split(",") for line in next(out.glob("logs/version_*/metrics.csv")).read_text().splitlines()]
    col = rows[0].index("val/loss")
    val = [float(r[col]) for r in rows[1:] if len(r) > col and r[col]]
    assert val[-1] < val[0]

    engine = load_engine(out)
    request = Request(mood=Mood.named("happy"), seed=3, options=SymbolicOptions(notes=40))
    assert len(engine.generate_tokens(request)) > 3 * 32  # well past one context window
    curve = Request(trajectory=Trajectory.parse("sad:0,happy:6"), seconds=6, seed=3)
    steady = Request(mood=Mood.named("sad"), seconds=6, seed=3)
    assert engine.generate_tokens(curve) != engine.generate_tokens(steady)


def test_audio_has_the_asked_length(run_dir):
    """Asked for seconds, the rendering is that long, the last release faded out; asked for notes, it keeps its
    tail."""
    engine = load_engine(run_dir)
    result = engine.generate(Request(mood=Mood.named("angry"), seconds=3, seed=4))
    assert len(result.audio) == round(3 * result.sr)
    assert abs(result.audio[-1]) < 1e-3
    by_notes = engine.generate(Request(mood=Mood.named("angry"), seed=4, options=SymbolicOptions(notes=10)))
    assert len(by_notes.audio) / by_notes.sr >= by_notes.midi.get_end_time()


@pytest.fixture(scope="module")
def beats_run(data_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("sym_beats")
    cfg = SymbolicTrainConfig(data=str(data_dir), out=str(out), tokens="beats", epochs=3, size="debug", seq_len=64)
    train(cfg, progress=False)
    return out


@pytest.mark.parametrize(
    ("mood", "tempo", "key", "meter", "bars"),
    [("calm", 72.0, "D major", "3/4", 6), ("angry", 151.0, "F# minor", "5/4", 3), ("sad", 45.5, "Bb major", "4/4", 4)],
)
def test_controls_set_tempo_key_meter_and_bars(beats_run, mood, tempo, key, meter, bars):
    from moodtune.midi.analysis import parse_key, to_key
    from moodtune.midi.tokens import midi_notes, notes_to_midi

    MODES = ("major", "minor")

    opts = SymbolicOptions(tempo=tempo, key=key, meter=meter, bars=bars)
    result = load_engine(beats_run).generate(Request(mood=Mood.named(mood), seed=3, options=opts))
    pm = result.midi
    _, tempi = pm.get_tempo_changes()
    assert len(tempi) == 1 and tempi[0] == pytest.approx(tempo, rel=1e-4)  # one tempo, the asked one
    beats = int(meter.split("/")[0])
    assert [(ts.numerator, ts.denominator) for ts in pm.time_signature_changes] == [(beats, 4)]
    length = bars * beats * 60.0 / tempo
    assert len(result.audio) == round(length * result.sr)  # exactly the asked bars
    assert max(n.end for n in every_note(pm)) <= length + 1e-6

    # the key is the same piece moved: the notes of the request without a key, moved into the asked one from the
    # key it was planned in (C), or, without a plan, from its estimated key
    def notes_of(midi):
        return sorted((round(n.start, 4), n.pitch) for n in midi_notes(midi))

    engine = load_engine(beats_run)
    plain = engine.generate(Request(mood=Mood.named(mood), seed=3, options=dataclasses.replace(opts, key=None)))
    planned = [notes_of(notes_to_midi(to_key(midi_notes(plain.midi), *parse_key(key), (0, m)))) for m in MODES]
    assert notes_of(pm) in planned
    free = dataclasses.replace(opts, plan=False)
    keyed = engine.generate(Request(mood=Mood.named(mood), seed=3, options=free)).midi
    plain = engine.generate(Request(mood=Mood.named(mood), seed=3, options=dataclasses.replace(free, key=None))).midi
    assert notes_of(keyed) == notes_of(notes_to_midi(to_key(midi_notes(plain), *parse_key(key))))
    assert {k: result.metadata[k] for k in ("tempo", "key", "meter", "bars")} == dict(
        tempo=tempo, key=key, meter=meter, bars=bars
    )


def test_controls_left_out_follow_the_mood_and_bad_ones_are_refused(beats_run, run_dir, capsys):
    engine = load_engine(beats_run)
    free = engine.generate(Request(mood=Mood.named("happy"), seconds=8, seed=2))
    fixed = engine.generate(Request(mood=Mood.named("happy"), seconds=8, seed=2, options=SymbolicOptions(tempo=90)))
    assert fixed.midi.get_tempo_changes()[1].tolist() == [90.0] and len(fixed.audio) == len(free.audio)
    for bad, message in [
        (dict(tempo=20), "tempo must lie in"),
        (dict(key="H major"), "unknown key"),
        (dict(meter="6/8"), "unknown meter"),
        (dict(bars=0), "bars must lie in"),
        (dict(bars=4, notes=10), "bars or notes"),
    ]:
        with pytest.raises(MoodtuneError, match=message):
            SymbolicOptions(**bad)
    with pytest.raises(MoodtuneError, match="tempo, bars: this model's tokens"):  # timed tokens have no bars
        load_engine(run_dir).generate(Request(mood=Mood.named("sad"), options=SymbolicOptions(tempo=90, bars=2)))
    args = ["generate", "--mood", "calm", "--checkpoint", str(beats_run), "--out", "x.mid"]
    assert main([*args, "--bars", "4", "--seconds", "10"]) == 2
    assert "give --bars or --seconds, not both" in capsys.readouterr().err


def test_pieces_follow_their_plan_of_chords_and_phrases(beats_run):
    from moodtune.engines.plan import CHORDS, PHRASE_BARS
    from moodtune.evaluation.musicality import bar_recurrence, chord_clarity
    from moodtune.evaluation.symbolic_metrics import piece_from_midi

    engine = load_engine(beats_run)
    opts = SymbolicOptions(bars=4 * PHRASE_BARS, repeat=1.0, meter="4/4")
    result = engine.generate(Request(mood=Mood.named("happy"), seed=5, options=opts))
    chords = result.metadata["chords"].split()
    assert len(chords) == 4 * PHRASE_BARS and result.metadata["form"].startswith("A A'")
    pm = result.midi
    bar_ticks = 4 * pm.resolution
    for note in every_note(pm):
        tick = pm.time_to_tick(note.start)
        if tick % pm.resolution == 0:  # on a beat: a tone of its bar's chord
            assert note.pitch % 12 in CHORDS[chords[tick // bar_ticks]], (tick, note.pitch, chords)
    piece = piece_from_midi(pm)
    assert chord_clarity(piece) > 0.9
    assert bar_recurrence(piece) >= 0.5  # every restated phrase copies three of its four bars
    free = engine.generate(Request(mood=Mood.named("happy"), seed=5, options=SymbolicOptions(plan=False, bars=16)))
    assert "chords" not in free.metadata and bar_recurrence(piece_from_midi(free.midi)) < 0.5


@pytest.mark.parametrize("plan", [True, False])
def test_positions_move_forward_and_an_onset_holds_few_distinct_notes(beats_run, plan):
    """A meter the model rarely saw (2/4) once made it pile hundreds of notes on a few positions."""
    from moodtune.engines.symbolic import MAX_ONSET_NOTES

    engine = load_engine(beats_run)
    for seed in range(3):
        opts = SymbolicOptions(meter="2/4", bars=6, plan=plan)
        tokens = engine.generate_tokens(Request(mood=Mood.named("happy"), seed=seed, options=opts))
        position, onset = -1, []
        for t in tokens:
            if t == "BAR":
                position, onset = -1, []
            elif t.startswith("POS_"):
                assert int(t[4:]) > position  # forward within the bar
                position, onset = int(t[4:]), []
            elif t.startswith("PITCH_"):
                assert t not in onset and len(onset) < MAX_ONSET_NOTES
                onset.append(t)


def test_tracks_take_the_asked_instruments_or_the_style_ensemble(beats_run):
    from moodtune.data.adapters.builtin import style_programs
    from moodtune.midi.instruments import ensemble

    engine = load_engine(beats_run)
    opts = SymbolicOptions(bars=4, instruments="flute,harp,cello")
    result = engine.generate(Request(mood=Mood.named("calm"), seed=1, options=opts))
    programs = {inst.name: inst.program for inst in result.midi.instruments}
    assert set(programs) <= {"melody", "accompaniment", "bass"} and "melody" in programs
    assert all(programs[name] == {"melody": 73, "accompaniment": 46, "bass": 42}[name] for name in programs)
    assert result.metadata["instruments"]["melody"] == "flute"
    assert result.metadata["soundfont"] == "TimGM6mb.sf2"  # the bundled one, unless another is asked for
    for style in ("quartet", "folk"):
        piece = engine.generate(Request(mood=Mood.named("calm"), seed=1, style=style, options=SymbolicOptions(bars=4)))
        wanted = ensemble(style_programs(style))
        assert {inst.name: inst.program for inst in piece.midi.instruments} == {
            inst.name: wanted[inst.name] for inst in piece.midi.instruments
        }
    with pytest.raises(MoodtuneError, match="unknown instrument 'kazoo'"):
        SymbolicOptions(instruments="piano,kazoo")


@pytest.mark.parametrize(("bars", "seconds"), [(6, None), (None, 6.0)])
def test_a_loop_leads_its_last_bar_back_into_its_first(beats_run, bars, seconds):
    from moodtune.engines.plan import CHORDS, LOOP_CHORD, PHRASE_BARS

    engine = load_engine(beats_run)
    opts = SymbolicOptions(bars=bars, loop=True, tempo=120.0, meter="4/4")
    request = Request(mood=Mood.named("happy"), seed=4, seconds=seconds or 30.0, options=opts)
    result = engine.generate(request)
    written = result.metadata["bars"]
    assert written == (bars or PHRASE_BARS * round(seconds * 120 / 60 / 4 / PHRASE_BARS) or PHRASE_BARS)
    chords = result.metadata["chords"].split()
    assert len(chords) == written and chords[0] in ("I", "i") and chords[-1] == LOOP_CHORD
    bar_s = 2.0  # 4/4 at 120 BPM
    assert len(result.audio) == round(written * bar_s * result.sr)  # whole bars: the joint is a bar line
    notes = every_note(result.midi)
    assert min(n.start for n in notes) == 0.0  # the loop opens on its first downbeat...
    assert all(n.pitch % 12 in CHORDS["I"] for n in notes if n.start == 0.0)  # ...with the tonic
    last = [n for n in notes if n.start >= (written - 1) * bar_s - 1e-6]
    assert last and all(n.pitch % 12 in CHORDS[LOOP_CHORD] for n in last)
    assert max(n.end for n in notes) <= written * bar_s + 1e-6
    audio = result.audio
    assert abs(float(audio[0] - audio[-1])) <= np.percentile(np.abs(np.diff(audio)), 99.9)  # no click
    for bad, message in [(dict(loop=True, notes=20), "whole bars"), (dict(loop=True, primer="x.mid"), "cannot loop")]:
        with pytest.raises(MoodtuneError, match=message):
            SymbolicOptions(**bad)


def test_the_grammar_writes_a_duration_after_each_pitch_and_no_note_without_one():
    from moodtune.engines.symbolic import MAX_ONSET_NOTES, BarGrammar
    from moodtune.midi.tokens import BeatTokenizer

    tok = BeatTokenizer()
    grammar = BarGrammar(tok)

    def allowed(*written: str) -> set[str]:
        for t in written:
            grammar.see(t)
        logits = torch.zeros(len(tok.vocabulary))
        grammar.ban(logits)
        return {t for t, v in zip(tok.vocabulary, logits.tolist(), strict=True) if v > -float("inf")}

    assert {t.partition("_")[0] for t in allowed("METER_4", "BAR", "TEMPO_104", "POS_0", "PITCH_60")} == {"DUR"}
    after_note = allowed("DUR_4")
    assert "PITCH_62" in after_note and "POS_1" in after_note and not any(t.startswith("DUR") for t in after_note)
    after_velocity = allowed("VEL_8")
    assert not any(t.startswith(("DUR", "VEL")) for t in after_velocity) and "PITCH_62" in after_velocity
    for p in range(62, 62 + MAX_ONSET_NOTES - 1):
        allowed(f"PITCH_{p}", "DUR_1")
    full = allowed()  # the onset has its most notes: only moving on remains
    assert {t.partition("_")[0] for t in full} <= {"POS", "BAR", "TEMPO", "METER", "<eos>", "<pad>", "<bos>"}
    assert "POS_1" in full and "POS_0" not in full
