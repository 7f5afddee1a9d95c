"""The JSON the API takes and gives; field limits here are the ones the 422 answers name."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from moodtune.engines.base import Request
from moodtune.engines.symbolic import MAX_METER_BEATS, MAX_TEMPO, MIN_TEMPO, SymbolicOptions, beats_per_bar
from moodtune.errors import MoodtuneError
from moodtune.midi.tokens import BeatTokenizer
from moodtune.mood import Mood, Trajectory

#: The longest piece one request may ask for, in seconds.
MAX_SECONDS = 300.0
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Request)}


_STRICT = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)


class TrajectoryPoint(BaseModel):
    """One knot of a mood curve."""

    model_config = _STRICT

    time: float = Field(ge=0, le=MAX_SECONDS, description="seconds from the start")
    valence: float = Field(ge=-1, le=1)
    arousal: float = Field(ge=-1, le=1)


class SymbolicControls(BaseModel):
    """The symbolic engine's controls; each is optional, and one left out follows the mood."""

    model_config = _STRICT

    tempo: float | None = Field(None, ge=MIN_TEMPO, le=MAX_TEMPO, description="beats per minute")
    key: str | None = Field(None, max_length=40, description="e.g. 'D major', 'F# minor'", examples=["D major"])
    meter: str | None = Field(None, max_length=8, description="N/4, N from 1 to 7", examples=["3/4"])
    bars: int | None = Field(None, ge=1, le=1000, description="length in bars, instead of seconds")
    instruments: str | None = Field(
        None,
        max_length=200,
        description="melody, accompaniment and bass instruments, e.g. 'piano,strings,bass' (one plays all)",
    )
    loop: bool = Field(False, description="end on the dominant that leads back into the first bar; audio loops")
    repeat: float | None = Field(None, ge=0, le=1, description="chance that a phrase restates an earlier one")
    plan: bool = Field(True, description="false: the network alone, without a plan of chords and phrases")
    soundfont: Literal["bundled", "fluidr3"] | None = Field(
        None, description="what renders the audio: the bundled soundfont (default) or FluidR3_GM where installed"
    )

    @model_validator(mode="after")
    def _valid(self) -> SymbolicControls:
        try:
            self.to_options()
        except MoodtuneError as exc:
            raise ValueError(str(exc)) from exc
        if self.bars is not None:
            beats = MAX_METER_BEATS if self.meter is None else beats_per_bar(self.meter)
            bpm = float(BeatTokenizer.TEMPI[0]) if self.tempo is None else self.tempo
            longest = self.bars * beats * 60.0 / bpm
            if longest > MAX_SECONDS:
                raise ValueError(
                    f"bars: {self.bars} bars of {beats}/4 at {bpm:g} BPM could last {longest:.0f} s, and a piece here "
                    f"lasts at most {MAX_SECONDS:g} s: ask for fewer bars, or give the tempo and meter"
                )
        return self

    def to_options(self) -> SymbolicOptions:
        """The library's options."""
        return SymbolicOptions(**self.model_dump())


class GenerateBody(BaseModel):
    """What to generate: exactly one of ``mood`` (a name), ``valence`` + ``arousal``, or ``trajectory``."""

    model: str | None = Field(
        None, max_length=200, description="a model id from GET /api/models (default: the default engine)"
    )
    mood: str | None = Field(
        None, max_length=40, description="a named mood: happy, calm, tense, ...", examples=["calm"]
    )
    valence: float | None = Field(None, ge=-1, le=1)
    arousal: float | None = Field(None, ge=-1, le=1)
    trajectory: list[TrajectoryPoint] | None = Field(
        None, min_length=1, max_length=1000, description="a mood curve, times strictly increasing"
    )
    seconds: float = Field(_DEFAULTS["seconds"], ge=0.5, le=MAX_SECONDS, description="length of the piece")
    seed: int = Field(_DEFAULTS["seed"], ge=0, le=2**31 - 1)
    temperature: float = Field(_DEFAULTS["temperature"], ge=0, le=5)
    style: str | None = Field(
        _DEFAULTS["style"], max_length=100, description="one of the model's styles (GET /api/models)"
    )
    symbolic: SymbolicControls | None = Field(None, description="the symbolic engine's controls (its models only)")

    model_config = _STRICT

    @field_validator("mood")
    @classmethod
    def _known_mood(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                Mood.named(value)
            except MoodtuneError as exc:
                raise ValueError(str(exc)) from exc
        return value

    @field_validator("trajectory")
    @classmethod
    def _increasing(cls, value: list[TrajectoryPoint] | None) -> list[TrajectoryPoint] | None:
        if value is not None:
            times = [p.time for p in value]
            if any(b <= a for a, b in itertools.pairwise(times)):
                raise ValueError("trajectory times must increase strictly")
        return value

    @model_validator(mode="after")
    def _one_mood(self) -> GenerateBody:
        point = self.valence is not None or self.arousal is not None
        if point and (self.valence is None or self.arousal is None):
            raise ValueError("valence and arousal go together")
        if sum([self.mood is not None, point, self.trajectory is not None]) != 1:
            raise ValueError("give exactly one of mood, valence and arousal, or trajectory")
        if self.trajectory is not None and self.trajectory[-1].time > self.seconds:
            end = self.trajectory[-1].time
            raise ValueError(
                f"trajectory: its last point ({end:g} s) lies after the end of the piece ({self.seconds:g} s)"
            )
        return self

    def to_request(self) -> Request:
        """The library's request."""
        common: dict[str, Any] = {
            "seconds": self.seconds,
            "seed": self.seed,
            "temperature": self.temperature,
            "style": self.style,
            "options": None if self.symbolic is None else self.symbolic.to_options(),
        }
        if self.trajectory is not None:
            points = [(p.time, p.valence, p.arousal) for p in self.trajectory]
            return Request(trajectory=Trajectory.from_points(points), **common)
        if self.mood is not None:
            return Request(mood=Mood.named(self.mood), **common)
        assert self.valence is not None and self.arousal is not None
        return Request(mood=Mood(self.valence, self.arousal), **common)


class ErrorOut(BaseModel):
    """Every error answer: ``message`` says what is wrong in one line (naming the field or file)."""

    message: str
    detail: Any = Field(description="the same as message, or for 422 the list of problems, field by field")


class ModelInfo(BaseModel):
    """One model a client can pick."""

    id: str
    engine: str
    shipped: bool
    default: bool
    summary: str
    styles: list[str]
    symbolic: bool
    control: dict[str, float] = Field(description="mood control measured by 'moodtune evaluate' (empty: not measured)")


class JobCreated(BaseModel):
    """A queued job; poll ``url``."""

    id: str
    status: Literal["queued", "running", "done", "failed"]
    url: str


class MoodPoint(BaseModel):
    """A point of the circumplex and its nearest named mood."""

    valence: float
    arousal: float
    mood: str


class MoodCurve(BaseModel):
    """Valence and arousal second by second."""

    times: list[float]
    valence: list[float]
    arousal: list[float]


class JobStatus(BaseModel):
    """Where a job is, and what it made."""

    id: str
    model: str
    status: Literal["queued", "running", "done", "failed"]
    stage: str
    progress: float = Field(ge=0, le=1)
    error: str | None = None
    asked: dict[str, Any] = Field(description="the request as understood: mood point or trajectory, seconds, ...")
    files: dict[str, str] = Field(default_factory=dict, description="kind (wav, png, midi, musicxml, svg) -> URL")
    seconds: float | None = Field(None, description="length of the audio made")
    measured: MoodPoint | None = Field(None, description="the mood model's reading of the whole piece")
    curve: MoodCurve | None = Field(None, description="the mood model's reading second by second")
    asked_curve: MoodCurve | None = Field(None, description="the asked mood at the curve's times")
    piece: dict[str, Any] | None = Field(
        None, description="what the symbolic engine wrote: bars, form, chords, instruments, soundfont"
    )
    took_s: float | None = None


class AnalysisOut(BaseModel):
    """The mood of an uploaded file."""

    name: str
    seconds: float
    measured: MoodPoint
    curve: MoodCurve
