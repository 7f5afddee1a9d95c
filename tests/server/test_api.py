"""The JSON API through FastAPI's TestClient, with the shipped models."""

from __future__ import annotations

import io
import threading
import time
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import soundfile as sf
from fastapi.testclient import TestClient

import moodtune.server.app as server_app
from moodtune.mood import Mood, Trajectory
from moodtune.server import ServerSettings, create_app
from moodtune.shipped import MOOD_MODEL, shipped_engines, shipped_index
from tests.conftest import music_like, write_audio
from tests.server.conftest import LOCAL, wait_job


def generate(client: TestClient, **body: object) -> dict:
    r = client.post("/api/generate", json=body)
    assert r.status_code == 202, r.text
    return wait_job(client, r.json()["url"])


def test_models_lists_the_shipped_engines_default_first_and_not_the_judge(client: TestClient) -> None:
    models = client.get("/api/models").json()
    ids = [m["id"] for m in models]
    assert sorted(ids) == sorted(shipped_engines())
    assert MOOD_MODEL not in ids
    assert models[0]["id"] == shipped_index()["default"] and models[0]["default"]
    assert all("<unknown>" not in m["styles"] for m in models)
    assert all(0 <= m["control"]["quadrant_accuracy"] <= 1 for m in models)


def test_moods_are_the_named_moods(client: TestClient) -> None:
    moods = client.get("/api/moods").json()
    assert moods["calm"] == [Mood.named("calm").valence, Mood.named("calm").arousal]


def test_generate_a_point_writes_audio_of_the_asked_length_and_measures_it(client: TestClient) -> None:
    job = generate(client, valence=0.5, arousal=-0.4, seconds=3, seed=2)
    assert job["status"] == "done" and job["progress"] == 1.0 and job["error"] is None
    assert job["asked"]["valence"] == 0.5 and job["asked"]["arousal"] == -0.4
    wav = client.get(job["files"]["wav"])
    assert wav.status_code == 200
    audio, sr = sf.read(io.BytesIO(wav.content))
    assert abs(len(audio) / sr - 3.0) < 0.05
    assert np.abs(audio).max() > 0.01
    assert client.get(job["files"]["png"]).headers["content-type"] == "image/png"
    measured = job["measured"]
    assert -1.5 < measured["valence"] < 1.5 and measured["mood"]
    assert len(job["curve"]["times"]) >= 1


def test_generate_a_trajectory_returns_the_measured_and_the_asked_curve(client: TestClient) -> None:
    points = [{"time": 0, "valence": -0.6, "arousal": -0.6}, {"time": 8, "valence": 0.6, "arousal": 0.6}]
    job = generate(client, model="spectrogram", trajectory=points, seconds=8)
    assert job["status"] == "done"
    curve, asked = job["curve"], job["asked_curve"]
    assert len(curve["times"]) == len(curve["valence"]) == len(asked["arousal"]) >= 4
    expected = Trajectory.from_points([(p["time"], p["valence"], p["arousal"]) for p in points]).at(curve["times"])
    np.testing.assert_allclose(asked["valence"], expected[:, 0], atol=1e-3)
    assert job["asked"]["trajectory"] == points


def test_symbolic_jobs_offer_midi_musicxml_and_the_score(client: TestClient) -> None:
    job = generate(client, model="symbolic", mood="happy", seconds=4)
    assert job["status"] == "done", job["error"]
    assert {"wav", "midi", "musicxml", "svg", "png"} <= set(job["files"])
    assert client.get(job["files"]["midi"]).content[:4] == b"MThd"
    assert client.get(job["files"]["svg"]).text.lstrip().startswith(("<?xml", "<svg"))


def test_symbolic_controls_reach_the_piece_and_come_back_with_it(client: TestClient) -> None:
    controls = {"tempo": 96, "key": "D major", "meter": "3/4", "bars": 4, "instruments": "piano,strings,bass"}
    job = generate(client, model="symbolic", mood="calm", symbolic={**controls, "loop": True})
    assert job["status"] == "done", job["error"]
    assert job["seconds"] == pytest.approx(4 * 3 * 60 / 96, abs=0.01)
    assert {k: job["asked"]["symbolic"][k] for k in controls} == controls and job["asked"]["symbolic"]["loop"]
    piece = job["piece"]
    assert piece["bars"] == 4 and piece["chords"].split()[-1] == "V7" and "melody piano" in piece["instruments"]
    midi = pretty_midi.PrettyMIDI(io.BytesIO(client.get(job["files"]["midi"]).content))
    assert midi.get_tempo_changes()[1].tolist() == [96.0]
    assert {i.name: i.program for i in midi.instruments}.get("melody") == 0


def test_the_same_request_gives_the_same_audio(client: TestClient) -> None:
    wavs = [client.get(generate(client, mood="sad", seconds=2, seed=7)["files"]["wav"]).content for _ in range(2)]
    assert wavs[0] == wavs[1]


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"mood": "happy", "seconds": 301}, "seconds"),
        ({"mood": "happy", "seconds": 0}, "seconds"),
        ({"valence": 2, "arousal": 0}, "valence"),
        ({"valence": 0.2}, "valence and arousal go together"),
        ({"seconds": 5}, "exactly one of mood"),
        ({"mood": "happy", "valence": 0.1, "arousal": 0.1}, "exactly one of mood"),
        ({"mood": "gloomy"}, "mood: unknown mood 'gloomy'"),
        ({"mood": "happy", "temperature": -1}, "temperature"),
        ({"mood": "happy", "seed": -3}, "seed"),
        ({"mood": "happy", "tempo": 120}, "tempo"),
        ({"mood": "happy", "seconds": "long"}, "seconds"),
        ({"trajectory": []}, "trajectory"),
        (
            {"trajectory": [{"time": 2, "valence": 0, "arousal": 0}, {"time": 1, "valence": 0, "arousal": 0}]},
            "increase",
        ),
        ({"trajectory": [{"time": 0, "valence": 0, "arousal": 3}]}, "trajectory[0].arousal"),
        ({"mood": "happy", "style": "techno"}, "style"),
        ({"mood": "happy", "model": "symbolic", "symbolic": {"key": "H major"}}, "unknown key 'H major'"),
        ({"mood": "happy", "model": "symbolic", "symbolic": {"tempo": 20}}, "symbolic.tempo"),
        ({"mood": "happy", "model": "symbolic", "symbolic": {"instruments": "kazoo"}}, "unknown instrument"),
        ({"mood": "happy", "model": "symbolic", "symbolic": {"bars": 200}}, "could last"),
        ({"mood": "happy", "model": "symbolic", "symbolic": {"soundfont": "/etc/passwd"}}, "symbolic.soundfont"),
        ({"mood": "happy", "model": "symbolic", "symbolic": {"volume": 3}}, "symbolic.volume"),
        ({"mood": "happy", "model": "spectrogram", "symbolic": {"tempo": 90}}, "symbolic: spectrogram is a"),
    ],
)
def test_bad_values_are_422_naming_the_field(client: TestClient, body: dict, named: str) -> None:
    r = client.post("/api/generate", json=body)
    assert r.status_code == 422
    message = r.json().get("message") or r.json()["detail"]
    assert named in message


def test_malformed_json_is_422(client: TestClient) -> None:
    r = client.post("/api/generate", content=b'{"mood": "happy",', headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert "not valid JSON" in r.json()["message"]


def test_unknown_model_and_job_are_404(client: TestClient) -> None:
    r = client.post("/api/generate", json={"model": "orchestra", "mood": "calm"})
    assert r.status_code == 404 and "orchestra" in r.json()["detail"]
    assert client.post("/api/generate", json={"model": MOOD_MODEL, "mood": "calm"}).status_code == 404
    assert client.get("/api/jobs/0123456789abcdef").status_code == 404


def test_files_outside_a_jobs_own_results_are_404(client: TestClient, tmp_path: Path) -> None:
    first = generate(client, mood="calm", seconds=1)
    second = generate(client, mood="sad", seconds=1)
    secret = tmp_path / "serve" / "secret.txt"
    secret.write_text("not for clients")
    for path in [
        f"/api/files/{first['id']}/..%2F..%2Fsecret.txt",
        f"/api/files/{first['id']}/%2E%2E%2Fsecret.txt",
        f"/api/files/{first['id']}/..%2F{second['id']}%2Fmusic.wav",
        f"/api/files/{first['id']}/%2Fetc%2Fpasswd",
        f"/api/files/{first['id']}/config.json",
        "/api/files/..%2Fsecret.txt/music.wav",
        f"/api/files/{first['id'][:-1]}x/music.wav",
    ]:
        r = client.get(path)
        assert r.status_code == 404, path
        assert b"not for clients" not in r.content


def test_analyze_draws_the_mood_curve_of_an_upload(client: TestClient, tmp_path: Path) -> None:
    wav = write_audio(tmp_path / "tune.wav", music_like(6.0, 22050), 22050)
    with wav.open("rb") as f:
        r = client.post("/api/analyze", files={"file": ("tune.wav", f, "audio/wav")})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["name"] == "tune.wav" and abs(out["seconds"] - 6.0) < 0.01
    assert len(out["curve"]["times"]) == len(out["curve"]["valence"]) >= 3
    assert out["measured"]["mood"]


def test_analyze_refuses_what_is_not_audio_empty_or_too_big(tmp_path: Path) -> None:
    settings = ServerSettings(out=tmp_path / "serve", max_upload_mb=0.1, preload=False)
    with TestClient(create_app(settings), base_url=LOCAL) as c:
        r = c.post("/api/analyze", files={"file": ("notes.txt", b"la la la" * 10, "text/plain")})
        assert r.status_code == 415 and "notes.txt" in r.json()["detail"]
        assert "serve" not in r.json()["detail"], "the message must not show the server's folders"
        r = c.post("/api/analyze", files={"file": ("empty.wav", b"", "audio/wav")})
        assert r.status_code == 422 and "empty" in r.json()["detail"]
        big = write_audio(tmp_path / "big.wav", music_like(4.0, 22050), 22050)  # about 0.18 MB as 16-bit WAV
        with big.open("rb") as f:
            r = c.post("/api/analyze", files={"file": ("big.wav", f, "audio/wav")})
        assert r.status_code == 413 and "uploads are at most 0.1 MB" in r.json()["message"]
        assert not list((tmp_path / "serve" / "uploads").iterdir()), "refused uploads are not kept"


def test_a_failed_generation_reports_its_error_and_the_worker_lives_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = server_app.run_generation
    calls = []

    def flaky(library, queue, job) -> None:
        calls.append(job.id)
        if len(calls) == 1:
            raise RuntimeError("the engine broke")
        real(library, queue, job)

    monkeypatch.setattr(server_app, "run_generation", flaky)
    with TestClient(create_app(ServerSettings(out=tmp_path / "serve", workers=1)), base_url=LOCAL) as c:
        failed = generate(c, mood="calm", seconds=1)
        assert failed["status"] == "failed" and "the engine broke" in failed["error"]
        assert generate(c, mood="calm", seconds=1)["status"] == "done"


def test_a_full_queue_answers_429_with_retry_after(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    monkeypatch.setattr(server_app, "run_generation", lambda library, queue, job: release.wait(30))
    settings = ServerSettings(out=tmp_path / "serve", workers=1, queue_limit=2, preload=False)
    with TestClient(create_app(settings), base_url=LOCAL) as c:
        first = c.post("/api/generate", json={"mood": "calm", "seconds": 1}).json()
        while c.get(first["url"]).json()["status"] != "running":
            time.sleep(0.01)
        answers = [c.post("/api/generate", json={"mood": "calm", "seconds": 1}) for _ in range(4)]
        release.set()
    assert [a.status_code for a in answers] == [202, 202, 429, 429]  # one running, two waiting, the rest refused
    refused = answers[2]
    assert int(refused.headers["Retry-After"]) >= 1
    assert "2 jobs are waiting" in refused.json()["detail"]


def test_openapi_documents_the_api_and_docs_work_offline(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/models", "/api/generate", "/api/jobs/{job_id}", "/api/analyze", "/api/files/{job_id}/{name}"} <= set(
        paths
    )
    docs = client.get("/docs").text
    assert "swagger" in docs.lower() and "cdn" not in docs and "https://" not in docs


def test_the_page_and_its_files_are_served_without_outside_links(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200 and 'id="pad"' in page.text
    for name in ("app.js", "style.css"):
        r = client.get(f"/static/{name}")
        assert r.status_code == 200
        assert "http://" not in r.text.replace("http://www.w3.org/2000/svg", "") and "https://" not in r.text
    assert "https://" not in page.text


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        (b'{"mood": "happy", "seconds": NaN}', "seconds"),
        (b'{"valence": Infinity, "arousal": 0}', "valence"),
        (b'{"mood": "happy", "temperature": 1e400}', "temperature"),
        (b'{"mood": "happy", "seconds": true}', "seconds"),
        (b'{"valence": "0.5", "arousal": 0}', "valence"),
        (b'{"trajectory": [{"time": 0, "valence": 0, "arousal": 0, "bogus": 1}], "seconds": 1}', "trajectory[0].bogus"),
        (
            b'{"trajectory": [{"time": 0, "valence": 0, "arousal": 0}, {"time": 60, "valence": 0, "arousal": 0}],'
            b' "seconds": 4}',
            "lies after the end of the piece",
        ),
    ],
)
def test_non_finite_wrongly_typed_or_stray_values_are_422_naming_the_field(
    client: TestClient, raw: bytes, named: str
) -> None:
    r = client.post("/api/generate", content=raw, headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert named in r.json()["message"]


def test_an_oversized_body_is_refused_before_it_is_read(client: TestClient) -> None:
    points = [{"time": i * 0.01, "valence": 0, "arousal": 0} for i in range(20_000)]
    r = client.post("/api/generate", json={"trajectory": points, "seconds": 300})
    assert r.status_code == 413 and "at most 256 kB" in r.json()["message"]


def test_a_chunked_body_is_refused_once_it_passes_the_limit(tmp_path: Path) -> None:
    def chunks(total: int, piece: bytes):
        for _ in range(total // len(piece)):
            yield piece

    settings = ServerSettings(out=tmp_path / "serve", max_upload_mb=0.1, preload=False)
    with TestClient(create_app(settings), base_url=LOCAL) as c:
        body = chunks(2_000_000, b'{"mood": "happy", "style": "' + b"x" * 65_536)  # no Content-Length: chunked
        r = c.post("/api/generate", content=body, headers={"content-type": "application/json"})
        assert r.status_code == 413 and "at most 256 kB" in r.json()["message"]
        assert len(r.content) < 1000  # nothing of the body is echoed
        boundary = b"x" * 16
        head = b"--" + boundary + b'\r\nContent-Disposition: form-data; name="file"; filename="b.wav"\r\n\r\n'
        upload = (part for part in [head, *chunks(3_000_000, b"\0" * 65_536)])
        r = c.post(
            "/api/analyze", content=upload, headers={"content-type": "multipart/form-data; boundary=" + "x" * 16}
        )
        assert r.status_code == 413 and "uploads are at most 0.1 MB" in r.json()["message"]
        assert not any((tmp_path / "serve").rglob("*.wav")), "nothing of a refused upload is kept"


def test_audio_whose_decoded_size_passes_the_limits_is_refused_from_its_header(tmp_path: Path) -> None:
    settings = ServerSettings(out=tmp_path / "serve", preload=False)
    with TestClient(create_app(settings), base_url=LOCAL) as c:
        for name, sr, channels, message in [("fast.wav", 384_000, 1, "384000 Hz"), ("wide.wav", 8_000, 9, "9 ch")]:
            path = tmp_path / name
            sf.write(str(path), np.full((sr // 10, channels), 0.5, np.float32), sr, subtype="PCM_16")
            with path.open("rb") as f:
                r = c.post("/api/analyze", files={"file": (name, f, "audio/wav")})
            assert r.status_code == 413 and name in r.json()["message"] and message in r.json()["message"]
            assert str(tmp_path) not in r.json()["message"]


def test_a_name_this_server_does_not_answer_to_is_refused(client: TestClient, tmp_path: Path) -> None:
    assert client.get("/api/moods").status_code == 200
    for host in ("localhost:8000", "[::1]:8000", "127.0.0.1"):
        assert client.get("/api/moods", headers={"Host": host}).status_code == 200
    r = client.get("/api/moods", headers={"Host": "evil.example:8000"})  # a rebound name: another site's page
    assert r.status_code == 400 and "--allow-host" in r.json()["message"]
    settings = ServerSettings(out=tmp_path / "serve", preload=False, allowed_hosts=("music.lan",))
    with TestClient(create_app(settings), base_url="http://music.lan") as c:
        assert c.get("/api/moods").status_code == 200


def test_a_post_from_another_sites_page_is_refused(client: TestClient) -> None:
    body = {"mood": "calm", "seconds": 1}
    r = client.post("/api/generate", json=body, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403 and "another site" in r.json()["message"]
    r = client.post("/api/analyze", files={"file": ("a.wav", b"RIFF", "audio/wav")}, headers={"Origin": "null"})
    assert r.status_code == 403
    same = client.post("/api/generate", json=body, headers={"Origin": LOCAL})
    assert same.status_code == 202  # the page itself (its origin is the host it talks to), and clients with none
    assert client.post("/api/generate", json=body).status_code == 202


def test_an_upload_past_the_analyses_running_is_told_429_at_once(tmp_path: Path) -> None:
    settings = ServerSettings(out=tmp_path / "serve", preload=False)
    with TestClient(create_app(settings), base_url=LOCAL) as c:
        busy = c.app.state.analyses
        while busy.acquire(blocking=False):  # every analysis slot taken
            pass
        wav = write_audio(tmp_path / "a.wav", music_like(2.0, 22050), 22050)
        started = time.monotonic()
        with wav.open("rb") as f:
            r = c.post("/api/analyze", files={"file": ("a.wav", f, "audio/wav")})
        assert r.status_code == 429 and r.headers["Retry-After"] == "10"
        assert time.monotonic() - started < 10, "a full house is said at once, not after a wait"


def test_every_error_answer_has_a_message(client: TestClient) -> None:
    for r in (
        client.get("/api/jobs/nope"),
        client.post("/api/generate", json={"model": "nope", "mood": "calm"}),
        client.post("/api/generate", json={"mood": "calm", "style": "jazz"}),
    ):
        assert r.status_code in (404, 422) and r.json()["message"], r.text
    assert client.get("/redoc").status_code == 404, "no page that needs a CDN"


def test_short_silent_or_long_uploads_are_refused_with_the_reason(tmp_path: Path) -> None:
    settings = ServerSettings(out=tmp_path / "serve", max_analyze_seconds=3.0, preload=False)
    short = write_audio(tmp_path / "blip.wav", music_like(0.3, 22050), 22050)
    silent = write_audio(tmp_path / "quiet.wav", np.zeros(22050 * 2, np.float32), 22050)
    long = write_audio(tmp_path / "long.wav", music_like(4.0, 22050), 22050)
    with TestClient(create_app(settings), base_url=LOCAL) as c:
        for path, code, reason in [(short, 422, "too short"), (silent, 422, "silent"), (long, 413, "at most 3 s")]:
            with path.open("rb") as f:
                r = c.post("/api/analyze", files={"file": (path.name, f, "audio/wav")})
            assert r.status_code == code and reason in r.json()["message"] and path.name in r.json()["message"]


def test_a_file_removed_under_a_job_is_404_not_500(client: TestClient) -> None:
    job = generate(client, mood="calm", seconds=1)
    folder = client.app.state.out / "jobs" / job["id"]
    (folder / "music.wav").unlink()
    assert client.get(job["files"]["wav"]).status_code == 404


def test_shutdown_waits_for_running_jobs_then_removes_its_temporary_folder(monkeypatch: pytest.MonkeyPatch) -> None:
    def slow(library, queue, job) -> None:
        time.sleep(0.5)
        (job.folder / "late.txt").write_text("written after shut-down began")

    monkeypatch.setattr(server_app, "run_generation", slow)
    with TestClient(create_app(ServerSettings(preload=False)), base_url=LOCAL) as c:
        out = c.app.state.out
        assert c.post("/api/generate", json={"mood": "calm", "seconds": 1}).status_code == 202
        time.sleep(0.1)
    assert not out.exists()
