"""The web app: one page (``/``), the JSON API (``/api/...``) and its OpenAPI reference (``/docs``), all served
offline. ``create_app(settings)`` builds a fresh app; its models, job queue and output folder live in
``app.state`` for the app's lifetime."""

from __future__ import annotations

import contextlib
import logging
import shutil
import tempfile
import threading
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import FastAPI, File, HTTPException, Request, UploadFile
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from moodtune import __version__
from moodtune.audio.io import AUDIO_EXTENSIONS, AudioReadError, AudioTooLargeError, audio_info
from moodtune.engines.symbolic import SymbolicOptions
from moodtune.mood import MOOD_ANGLES, Mood
from moodtune.server.jobs import Job, JobQueue, QueueFull
from moodtune.server.library import ModelLibrary
from moodtune.server.schemas import (
    AnalysisOut,
    ErrorOut,
    GenerateBody,
    JobCreated,
    JobStatus,
    ModelInfo,
    SymbolicControls,
)
from moodtune.server.settings import ServerSettings
from moodtune.server.work import curve_json, measure, point_json, run_generation

STATIC_DIR = Path(__file__).parent / "static"
_CHUNK = 1 << 20
#: Room for the multipart envelope around an upload, in bytes.
_ENVELOPE = 64 * 1024
log = logging.getLogger(__name__)


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for error answers (all shaped as :class:`ErrorOut`)."""
    return {code: {"model": ErrorOut} for code in codes}


class _BodyTooLarge(HTTPException):
    """Raised from ``receive`` once a body has passed its limit: an HTTP error, so the body parsers let it through
    and the app answers 413."""

    def __init__(self, message: str) -> None:
        super().__init__(413, message)


class BodyLimit:
    """Refuses (413) a request whose body is larger than its route allows: before reading it when its declared
    length says so, otherwise as soon as the bytes received pass the limit, whatever the transfer encoding (a
    chunked body declares no length)."""

    def __init__(self, app: ASGIApp, limits: dict[str, tuple[int, str]]) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limits.get(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        most, advice = limit
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > most:
            await _refuse(413, f"the request body is {int(length) / 1e6:.2f} MB; {advice}", scope, receive, send)
            return
        received, started = 0, False

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > most:
                    raise _BodyTooLarge(f"the request body is over {most / 1e6:.2f} MB; {advice}")
            return message

        async def watched(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watched)
        except _BodyTooLarge as exc:
            if not started:
                await _refuse(413, str(exc.detail), scope, receive, send)


def _host_name(host: str) -> str:
    """``"127.0.0.1:8000"`` -> ``"127.0.0.1"``, ``"[::1]:8000"`` -> ``"::1"``: a Host header without its port."""
    if host.startswith("["):
        return host[1:].partition("]")[0]
    return host.rpartition(":")[0] if host.count(":") == 1 else host


class KnownHost:
    """Refuses (400) a request whose ``Host`` header names none of ``allowed`` (nothing is checked when it is
    empty): a page on another site whose name has been rebound to this machine's address reaches the server
    with that site's name, not this one's."""

    def __init__(self, app: ASGIApp, allowed: tuple[str, ...]) -> None:
        self.app, self.allowed = app, {name.lower() for name in allowed}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allowed and scope["type"] == "http":
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1")
            if _host_name(host).lower() not in self.allowed:
                shown = host[:60]
                message = f"Host {shown!r} is not served here; start the server with --allow-host to serve that name"
                await _refuse(400, message, scope, receive, send)
                return
        await self.app(scope, receive, send)


class SameOrigin:
    """Refuses (403) a state-changing request (POST, PUT, PATCH, DELETE) that a browser sent from another site:
    its ``Origin`` header names another host than the one it was sent to. A page elsewhere cannot make the
    visitor's browser queue work or upload files here; clients that send no ``Origin`` (curl, scripts) pass."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope.get("method") in ("POST", "PUT", "PATCH", "DELETE"):
            headers = dict(scope.get("headers") or [])
            origin, host = headers.get(b"origin"), headers.get(b"host", b"")
            if origin is not None and urlsplit(origin.decode("latin-1")).netloc.encode("latin-1") != host:
                message = "a request from another site's page is refused; send it from this server's page"
                await _refuse(403, message, scope, receive, send)
                return
        await self.app(scope, receive, send)


async def _refuse(status: int, message: str, scope: Scope, receive: Receive, send: Send) -> None:
    """Answer a request from a middleware, shaped as every error answer is (:class:`ErrorOut`)."""
    await JSONResponse(status_code=status, content={"message": message, "detail": message})(scope, receive, send)


def _field(loc: tuple[Any, ...]) -> str:
    """``("body", "trajectory", 2, "valence")`` -> ``"trajectory[2].valence"``; the body itself is ``"body"``."""
    parts = [p for p in loc if p != "body"]
    text = ""
    for p in parts:
        text += f"[{p}]" if isinstance(p, int) else (f".{p}" if text else str(p))
    return text or "body"


def validation_message(errors: list[dict[str, Any]]) -> str:
    """One line naming each bad field and what is wrong with it."""
    lines: list[str] = []
    for e in errors:
        if e.get("type") == "json_invalid":
            lines.append(f"body: not valid JSON ({e.get('ctx', {}).get('error', 'cannot be parsed')})")
            continue
        msg = str(e.get("msg", "invalid")).removeprefix("Value error, ")
        field = _field(tuple(e.get("loc", ())))
        lines.append(msg if field == "body" and e.get("type") == "value_error" else f"{field}: {msg}")
    return "; ".join(lines)


def _job_status(job: Job) -> dict[str, Any]:
    return {
        "id": job.id,
        "model": job.model,
        "status": job.status,
        "stage": job.stage,
        "progress": round(job.progress, 3),
        "error": job.error,
        "asked": _asked(job),
        "files": {kind: f"/api/files/{job.id}/{name}" for kind, name in job.files.items()},
        **job.result,
    }


def _asked(job: Job) -> dict[str, Any]:
    r = job.request
    asked: dict[str, Any] = {"seconds": r.seconds, "seed": r.seed, "temperature": r.temperature, "style": r.style}
    if r.mood is not None:
        asked.update(valence=r.mood.valence, arousal=r.mood.arousal, mood=r.mood.nearest_name())
    elif r.trajectory is not None:
        asked["trajectory"] = [{"time": t, "valence": m.valence, "arousal": m.arousal} for t, m in r.trajectory.knots]
    if isinstance(r.options, SymbolicOptions):
        asked["symbolic"] = {name: getattr(r.options, name) for name in SymbolicControls.model_fields}
    return asked


@contextlib.asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: ServerSettings = app.state.settings
    temporary = settings.out is None
    out = Path(tempfile.mkdtemp(prefix="moodtune-serve-")) if temporary else Path(settings.out)  # type: ignore[arg-type]
    out.mkdir(parents=True, exist_ok=True)
    library = ModelLibrary(settings.shipped_dir, settings.models_dir)
    analyses = threading.BoundedSemaphore(settings.workers)
    if settings.preload:
        library.mood_model  # noqa: B018 - load the judge now, not on the first click
        if library.default_id is not None:
            library.engine(library.default_id)
    queue = JobQueue(
        out / "jobs",
        lambda job: run_generation(library, queue, job),
        workers=settings.workers,
        queue_limit=settings.queue_limit,
        keep_jobs=settings.keep_jobs,
        keep_seconds=settings.keep_seconds,
        grace_seconds=settings.grace_seconds,
    )
    app.state.out, app.state.library, app.state.queue, app.state.analyses = out, library, queue, analyses
    try:
        yield
    finally:
        if queue.running():
            log.warning("waiting for %d running job(s) to finish", queue.running())
        queue.shutdown(wait=True)
        if temporary:
            shutil.rmtree(out, ignore_errors=True)


def _save_upload(upload: UploadFile, folder: Path, limit_bytes: int) -> Path:
    """Copy an upload to ``folder`` in chunks, refusing it (413) once it passes ``limit_bytes``."""
    suffix = Path(upload.filename or "").suffix.lower()
    target = folder / f"{uuid.uuid4().hex}{suffix if suffix in AUDIO_EXTENSIONS else '.upload'}"
    folder.mkdir(parents=True, exist_ok=True)
    size = 0
    with target.open("wb") as f:
        while chunk := upload.file.read(_CHUNK):
            size += len(chunk)
            if size > limit_bytes:
                f.close()
                target.unlink(missing_ok=True)
                raise HTTPException(413, f"{upload.filename}: larger than {limit_bytes / 1e6:g} MB")
            f.write(chunk)
    if size == 0:
        target.unlink(missing_ok=True)
        raise HTTPException(422, f"{upload.filename}: the file is empty")
    return target


def _analyze_upload(library: ModelLibrary, path: Path, name: str, settings: ServerSettings) -> Any:
    """The mood of a saved upload: 415 if it is not audio, 413 if too long, 422 if silent or too short."""
    try:
        _, seconds = audio_info(path)
    except AudioTooLargeError as exc:
        raise HTTPException(413, str(exc).replace(str(path), name)) from exc
    except AudioReadError as exc:
        raise HTTPException(415, f"{name}: not an audio file moodtune can read") from exc
    if seconds > settings.max_analyze_seconds:
        limit = settings.max_analyze_seconds
        raise HTTPException(413, f"{name}: {seconds:.0f} s of audio; at most {limit:g} s are analysed here")
    try:
        return measure(library.mood_model, path)
    except AudioReadError as exc:
        raise HTTPException(422, str(exc).replace(str(path), name)) from exc


def create_app(settings: ServerSettings | None = None) -> FastAPI:
    """A new app serving the page and the API with ``settings`` (defaults: the shipped models only)."""
    app = FastAPIOffline(
        title="moodtune",
        version=__version__,
        description="Mood-conditioned music generation: ask for a mood, a valence/arousal point or a curve of them.",
        lifespan=_lifespan,
        redoc_url=None,
    )
    settings = settings or ServerSettings()
    app.state.settings = settings
    app.add_middleware(SameOrigin)
    app.add_middleware(KnownHost, allowed=settings.allowed_hosts)
    app.add_middleware(
        BodyLimit,
        limits={
            "/api/generate": (int(settings.max_body_kb * 1024), f"a request is at most {settings.max_body_kb:g} kB"),
            "/api/analyze": (
                int(settings.max_upload_mb * 1e6) + _ENVELOPE,
                f"uploads are at most {settings.max_upload_mb:g} MB",
            ),
        },
    )
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        # the offending input is not echoed: it may be huge, or a NaN that JSON cannot carry
        errors = [{k: v for k, v in e.items() if k not in ("input", "url")} for e in exc.errors()]
        return JSONResponse(
            status_code=422,
            content={"message": validation_message(errors), "detail": jsonable_encoder(errors)},
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(
            status_code=exc.status_code,
            content={"message": str(exc.detail), "detail": exc.detail},
            headers=getattr(exc, "headers", None),
        )

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        return HTMLResponse((STATIC_DIR / "index.html").read_text(encoding="utf-8"))

    @app.get("/api/moods", summary="The named moods: name -> [valence, arousal]")
    def moods() -> dict[str, list[float]]:
        return {name: [Mood.named(name).valence, Mood.named(name).arousal] for name in MOOD_ANGLES}

    @app.get("/api/models", response_model=list[ModelInfo], summary="The models to generate with")
    def models(request: Request) -> list[dict[str, Any]]:
        return [m.describe() for m in request.app.state.library.models.values()]

    @app.post(
        "/api/generate",
        status_code=202,
        response_model=JobCreated,
        summary="Queue a generation job",
        responses=_errors(404, 413, 422, 429),
    )
    def generate(body: GenerateBody, request: Request) -> dict[str, Any]:
        """Queue a piece for a named mood, a valence/arousal point or a trajectory; poll the returned URL. Answers
        404 for an unknown model, 422 for a bad value (the message names the field) and 429 with Retry-After when
        the queue is full."""
        library: ModelLibrary = request.app.state.library
        model_id = body.model or library.default_id
        if model_id is None or model_id not in library.models:
            known = ", ".join(library.models) or "none"
            raise HTTPException(404, f"no model {body.model!r}; models: {known}")
        chosen = library.models[model_id]
        if body.symbolic is not None and not chosen.symbolic:
            message = f"symbolic: {model_id} is a {chosen.engine} model; these controls are the symbolic engine's"
            raise HTTPException(422, message)
        styles = library.models[model_id].styles
        if body.style is not None and body.style not in styles:
            known = ", ".join(styles) or "none"
            message = f"style: {model_id} has no style {body.style!r}; its styles: {known}"
            raise HTTPException(422, message)
        try:
            job = request.app.state.queue.submit(model_id, body.to_request())
        except QueueFull as exc:
            raise HTTPException(429, str(exc), headers={"Retry-After": str(exc.retry_after)}) from exc
        return {"id": job.id, "status": job.status, "url": f"/api/jobs/{job.id}"}

    @app.get(
        "/api/jobs/{job_id}",
        response_model=JobStatus,
        summary="A job's status, progress and results",
        responses=_errors(404),
    )
    def job_status(job_id: str, request: Request) -> dict[str, Any]:
        job = request.app.state.queue.get(job_id)
        if job is None:
            raise HTTPException(404, f"no job {job_id!r} (finished jobs are kept for a while, then cleaned)")
        return _job_status(job)

    @app.post(
        "/api/analyze",
        response_model=AnalysisOut,
        summary="The mood of an uploaded audio file",
        responses=_errors(413, 415, 422, 429),
    )
    def analyze(
        request: Request, file: Annotated[UploadFile, File(description="WAV, FLAC, OGG, MP3 or AIFF")]
    ) -> dict[str, Any]:
        """The mood model's reading of the file, whole and second by second. Refuses files over the upload limit
        (413) and files that are not audio (415)."""
        settings: ServerSettings = request.app.state.settings
        if not request.app.state.analyses.acquire(blocking=False):  # at once: a waiting request holds a thread
            raise HTTPException(429, "busy analysing other uploads; try again soon", headers={"Retry-After": "10"})
        try:
            path = _save_upload(file, request.app.state.out / "uploads", int(settings.max_upload_mb * 1e6))
            try:
                analysis = _analyze_upload(request.app.state.library, path, file.filename or "upload", settings)
            finally:
                path.unlink(missing_ok=True)
        finally:
            request.app.state.analyses.release()
        return {
            "name": file.filename or "upload",
            "seconds": round(analysis.seconds, 3),
            "measured": point_json(analysis),
            "curve": curve_json(analysis.times, analysis.curve),
        }

    @app.get(
        "/api/files/{job_id}/{name}",
        summary="A file a job made",
        response_class=FileResponse,
        responses={200: {"content": {"audio/wav": {}, "image/png": {}, "audio/midi": {}}}, **_errors(404)},
    )
    def job_file(job_id: str, name: str, request: Request) -> FileResponse:
        job = request.app.state.queue.get(job_id)
        if job is None or name not in job.files.values() or not (job.folder / name).is_file():
            raise HTTPException(404, f"no file {name!r} in job {job_id!r}")
        return FileResponse(job.folder / name, filename=name)

    return app
