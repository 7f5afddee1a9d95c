"""Property-based tests of every parser a user feeds: each input either works or gives one MoodtuneError (the CLI
turns that into one line and exit 2). The profile is small so the suite stays fast."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from moodtune.api import read_trajectory_file
from moodtune.audio.io import load_audio
from moodtune.data.adapters.deam import read_static
from moodtune.data.adapters.midi_folder import read_labels
from moodtune.engines.base import Request
from moodtune.engines.checkpoint import CONFIG_FILE, WEIGHTS_FILE, load_checkpoint
from moodtune.errors import MoodtuneError
from moodtune.midi.render import load_midi
from moodtune.midi.tokens import NoteEvent, TimedTokenizer
from moodtune.mood import MOOD_ANGLES, Mood, Trajectory

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

names = st.sampled_from(sorted(MOOD_ANGLES))
numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(-5, 5),
    st.sampled_from(["0.5", "-1", "1e3", "nan", "inf", "", " ", "1,5"]),
)
cells = st.one_of(numbers.map(str), st.text(max_size=6), st.just(""))


def works_or_says(fn: object, *args: object) -> object:
    """Call ``fn``: a result, or None after a MoodtuneError (anything else fails the test)."""
    try:
        return fn(*args)  # type: ignore[operator]
    except MoodtuneError as exc:
        assert str(exc).strip() and "\n" not in str(exc).strip()
        return None


def write_tmp(data: bytes, name: str) -> Path:
    folder = Path(tempfile.mkdtemp(prefix="moodtune-fuzz-"))
    path = folder / name
    path.write_bytes(data)
    return path


# ---------- moods and trajectories ----------


@FAST
@given(st.one_of(names, st.text(max_size=20), st.tuples(numbers, numbers).map(lambda p: f"{p[0]},{p[1]}")))
def test_mood_parse_works_or_says_why(text: str) -> None:
    mood = works_or_says(Mood.parse, text)
    if mood is not None:
        assert -1 <= mood.valence <= 1 and -1 <= mood.arousal <= 1


@FAST
@given(st.lists(st.tuples(st.one_of(names, st.text(max_size=5)), numbers.map(str)), max_size=5), st.booleans())
def test_trajectory_strings_work_or_say_why(points: list[tuple[str, str]], stray_comma: bool) -> None:
    text = ",".join(f"{m}:{t}" for m, t in points) + ("," if stray_comma else "")
    trajectory = works_or_says(Trajectory.parse, text)
    if trajectory is not None:
        times = [t for t, _ in trajectory.knots]
        assert times == sorted(times) and len(set(times)) == len(times)
        assert all(math.isfinite(t) and t >= 0 for t in times)


@FAST
@given(
    st.lists(st.sampled_from(["time", "valence", "arousal", "mood", "", "time "]), min_size=1, max_size=4),
    st.lists(st.lists(cells, min_size=0, max_size=5), max_size=5),
    st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]),
)
@example(["time", "valence", "arousal", "time "], [["0.0"]], "utf-8")  # a column twice once names are stripped
def test_trajectory_csvs_work_or_say_why(header: list[str], rows: list[list[str]], encoding: str) -> None:
    text = "\n".join([",".join(header), *(",".join(r) for r in rows)]) + "\n"
    path = write_tmp(text.encode(encoding, errors="replace"), "t.csv")
    trajectory = works_or_says(read_trajectory_file, path)
    if trajectory is not None:
        assert all(-1 <= m.valence <= 1 and -1 <= m.arousal <= 1 for _, m in trajectory.knots)


@FAST
@given(st.binary(max_size=300))
def test_random_bytes_as_a_trajectory_csv(data: bytes) -> None:
    works_or_says(read_trajectory_file, write_tmp(data, "t.csv"))


@FAST
@given(st.integers(), st.floats(allow_nan=True, allow_infinity=True))
def test_request_seed_and_temperature_work_or_say_why(seed: int, temperature: float) -> None:
    request = works_or_says(lambda: Request(mood=Mood.named("calm"), seed=seed, temperature=temperature))
    if request is not None:
        assert 0 <= request.seed < 2**63 and 0 <= request.temperature <= 5


# ---------- dataset tables ----------


@FAST
@given(
    st.lists(st.sampled_from(["song_id", "valence_mean", "arousal_mean", "x", "song_id"]), min_size=1, max_size=5),
    st.lists(st.lists(cells, max_size=6), max_size=6),
)
def test_deam_static_tables_work_or_say_why(header: list[str], rows: list[list[str]]) -> None:
    path = write_tmp(("\n".join([", ".join(header), *(", ".join(r) for r in rows)]) + "\n").encode(), "static.csv")
    labels = works_or_says(read_static, [path])
    if labels is not None:
        assert all(-1 <= v <= 1 and -1 <= a <= 1 for v, a in labels.values())


@FAST
@given(
    st.lists(st.sampled_from(["file", "valence", "arousal", "style"]), min_size=1, max_size=4),
    st.lists(st.lists(cells, max_size=5), max_size=6),
)
def test_midi_label_tables_work_or_say_why(header: list[str], rows: list[list[str]]) -> None:
    path = write_tmp(("\n".join([",".join(header), *(",".join(r) for r in rows)]) + "\n").encode(), "labels.csv")
    labels = works_or_says(read_labels, path)
    if labels is not None:
        assert all(-1 <= v <= 1 and -1 <= a <= 1 for v, a in labels.values())


# ---------- files ----------


@FAST
@given(st.binary(max_size=2000), st.sampled_from([".wav", ".mp3", ".ogg", ".flac", ".aiff", ""]))
def test_random_bytes_as_audio_are_refused_by_name(data: bytes, suffix: str) -> None:
    path = write_tmp(data, f"noise{suffix}")
    try:
        load_audio(path, sr=8000)
    except MoodtuneError as exc:
        assert str(path) in str(exc)


@FAST
@given(st.binary(max_size=1000))
def test_random_bytes_as_midi_are_refused_by_name(data: bytes) -> None:
    path = write_tmp(data, "noise.mid")
    try:
        load_midi(path)
    except MoodtuneError as exc:
        assert str(path) in str(exc)


@FAST
@given(st.binary(max_size=500), st.sampled_from([WEIGHTS_FILE, CONFIG_FILE]))
def test_random_bytes_in_a_checkpoint_are_refused(data: bytes, which: str) -> None:
    from moodtune.shipped import shipped_path

    folder = Path(tempfile.mkdtemp(prefix="moodtune-fuzz-"))
    for name in (WEIGHTS_FILE, CONFIG_FILE):
        (folder / name).write_bytes((shipped_path("mood") / name).read_bytes())
    (folder / which).write_bytes(data)
    with pytest.raises(MoodtuneError):
        load_checkpoint(folder)


# ---------- MIDI tokens ----------

notes = st.lists(
    st.builds(
        NoteEvent,
        start=st.floats(0, 20, allow_nan=False),
        duration=st.floats(0.01, 5, allow_nan=False),
        pitch=st.integers(0, 127),
        velocity=st.integers(1, 127),
    ),
    max_size=30,
)


@FAST
@given(st.lists(st.sampled_from(TimedTokenizer().vocabulary), max_size=80))
def test_decoding_any_token_stream_gives_valid_notes(tokens: list[str]) -> None:
    for n in TimedTokenizer().decode(tokens):
        assert 0 <= n.pitch <= 127 and 0 < n.velocity <= 127 and n.start >= 0 and n.duration > 0


@FAST
@given(notes)
def test_encode_then_decode_keeps_each_note_on_the_grid(events: list[NoteEvent]) -> None:
    tok = TimedTokenizer()
    decoded = tok.decode(tok.encode(events))
    playable = [n for n in events if tok.MIN_PITCH <= n.pitch <= tok.MAX_PITCH]
    assert len(decoded) == len(playable)
    key = sorted((round(n.start / tok.step), n.pitch) for n in playable)
    assert sorted((round(n.start / tok.step), n.pitch) for n in decoded) == key
    for n in decoded:
        assert tok.step <= n.duration + 1e-9 <= tok.MAX_DUR * tok.step + 1e-9
    assert tok.encode(decoded) == tok.encode(tok.decode(tok.encode(decoded))), "a second round trip changes nothing"
