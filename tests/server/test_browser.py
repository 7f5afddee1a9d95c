"""The page in a real headless browser: Playwright driving the system Chromium (``make test`` installs it).

Set ``MOODTUNE_CHROMIUM`` to use another Chromium binary. The last test saves a screenshot of the page to
``runs/screenshots/serve.png`` (the picture in README is a copy of it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, sync_playwright

from tests.conftest import music_like, write_audio

SCREENSHOT = Path("runs/screenshots/serve.png")


def chromium_path() -> str:
    """The Chromium binary to drive; fails with what to install when there is none."""
    for candidate in (os.environ.get("MOODTUNE_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        found = candidate and shutil.which(candidate)
        if found:
            return found
    pytest.fail("no Chromium found for the browser tests: 'make test' installs it (apt-get install chromium)")


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=chromium_path(), args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"]
        )
        yield b
        b.close()


@pytest.fixture
def page(browser, live_server: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    pg = context.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    pg.goto(live_server + "/")
    pg.wait_for_selector("body[data-ready=true]")
    yield pg
    context.close()
    assert not errors, f"script errors on the page: {errors}"


def click_pad(page: Page, valence: float, arousal: float) -> None:
    box = page.locator("#pad").bounding_box()
    assert box is not None
    scale = box["width"] / 2.4  # the pad's view box is [-1.2, 1.2] on both axes
    page.mouse.click(box["x"] + (valence + 1.2) * scale, box["y"] + (1.2 - arousal) * scale)


def test_click_the_pad_and_generate_gives_a_playable_clip_of_the_asked_length(page: Page) -> None:
    click_pad(page, 0.6, -0.5)
    assert "(calm)" in page.inner_text("#readout") or "relaxed" in page.inner_text("#readout")
    page.fill("#seconds", "4")
    page.click("#generate")
    page.wait_for_selector("#result:not([hidden])", timeout=60_000)
    page.wait_for_function("document.querySelector('#player').readyState >= 1", timeout=10_000)
    assert page.evaluate("document.querySelector('#player').duration") == pytest.approx(4.0, abs=0.05)
    assert page.get_attribute("#measured-point", "visibility") == "visible"
    assert "Heard as" in page.inner_text("#measured-text")
    assert page.locator("#error").is_hidden()
    assert page.locator("#recent li").count() == 1


def test_the_symbolic_engines_controls_shape_the_piece(page: Page) -> None:
    assert page.locator("#symbolic-controls").is_hidden() or page.input_value("#engine") == "symbolic"
    page.select_option("#engine", "symbolic")
    assert page.locator("#symbolic-controls").is_visible()
    page.fill("#tempo", "90")
    page.select_option("#meter", "3/4")
    page.fill("#bars", "4")
    page.fill("#key", "D major")
    page.fill("#instruments", "flute,harp")
    page.check("#loop")
    page.click("#generate")
    page.wait_for_selector("#piece-text:not([hidden])", timeout=60_000)
    piece = page.inner_text("#piece-text")
    assert "4 bars" in piece and "melody flute" in piece and "V7" in piece  # a loop leads back from V7
    page.wait_for_function("document.querySelector('#player').readyState >= 1", timeout=10_000)
    assert page.evaluate("document.querySelector('#player').duration") == pytest.approx(4 * 3 * 60 / 90, abs=0.05)
    page.fill("#key", "H major")
    page.click("#generate")
    page.wait_for_selector("#error:not([hidden])", timeout=10_000)
    assert "unknown key 'H major'" in page.inner_text("#error")
    page.select_option("#engine", "spectrogram")
    assert page.locator("#symbolic-controls").is_hidden()


def test_draw_a_trajectory_and_the_measured_curve_is_drawn(page: Page) -> None:
    page.click("#mode-trajectory")
    page.fill("#seconds", "10")
    box = page.locator("#pad").bounding_box()
    assert box is not None
    x0, y0 = box["x"] + 0.25 * box["width"], box["y"] + 0.8 * box["height"]
    page.mouse.move(x0, y0)
    page.mouse.down()
    for i in range(1, 25):
        page.mouse.move(x0 + i * 0.02 * box["width"], y0 - i * 0.025 * box["height"])
    page.mouse.up()
    lines = page.input_value("#points").splitlines()
    assert len(lines) >= 3
    first, last = (list(map(float, line.split(","))) for line in (lines[0], lines[-1]))
    assert first[0] == 0 and last[0] == pytest.approx(10.0)
    assert first[1] < 0 < last[1] and first[2] < 0 < last[2], "drawn from sad towards happy"
    page.click("#generate")
    page.wait_for_function("document.querySelector('#measured-path').getAttribute('points')", timeout=60_000)
    assert len(page.get_attribute("#measured-path", "points").split()) >= 5
    assert page.locator("#curve-chart polyline.measured-arousal").count() == 1
    assert page.locator("#curve-chart polyline.asked-arousal").count() == 1


def test_upload_a_wav_and_its_mood_curve_appears(page: Page, tmp_path: Path) -> None:
    wav = write_audio(tmp_path / "mine.wav", music_like(6.0, 22050), 22050)
    page.set_input_files("#upload", str(wav))
    page.wait_for_function("document.querySelector('#analysis-path').getAttribute('points')", timeout=30_000)
    assert len(page.get_attribute("#analysis-path", "points").split()) >= 3
    assert "mine.wav" in page.inner_text("#analysis-text")
    assert page.locator("#analysis-chart polyline.measured-valence").count() == 1


def test_a_bad_value_shows_an_error_message(page: Page, tmp_path: Path) -> None:
    page.fill("#seconds", "1000")
    page.click("#generate")
    page.wait_for_selector("#error:not([hidden])")
    assert "seconds" in page.inner_text("#error") and "300" in page.inner_text("#error")
    assert page.locator("#pad").is_visible()
    page.fill("#seconds", "4")
    notes = tmp_path / "notes.txt"
    notes.write_text("not music")
    page.set_input_files("#upload", str(notes))
    page.wait_for_function("document.querySelector('#analysis-error').textContent.includes('notes.txt')")
    page.fill("#temperature", "")
    page.click("#generate")
    page.wait_for_function("document.querySelector('#error').textContent.includes('Temperature: enter a number')")
    page.fill("#temperature", "1")
    page.click("#mode-trajectory")
    page.fill("#points", "0,0,0\n5,2,0")
    assert "[-1, 1]" in page.inner_text("#points-error")
    page.fill("#points", "0,-0.5,-0.5\n4,0.5,0.5")
    click_pad(page, 0.2, 0.2)  # a click is not a path: the points stay
    assert page.input_value("#points") == "0,-0.5,-0.5\n4,0.5,0.5"


def draw(page: Page, start: tuple[float, float], end: tuple[float, float], steps: int = 24) -> None:
    """Drag across the pad from one (valence, arousal) point to another."""
    box = page.locator("#pad").bounding_box()
    assert box is not None
    scale = box["width"] / 2.4
    xy = [(box["x"] + (v + 1.2) * scale, box["y"] + (1.2 - a) * scale) for v, a in (start, end)]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for i in range(1, steps + 1):
        f = i / steps
        page.mouse.move(xy[0][0] + f * (xy[1][0] - xy[0][0]), xy[0][1] + f * (xy[1][1] - xy[0][1]))
    page.mouse.up()


def test_screenshot_of_a_session(page: Page, tmp_path: Path) -> None:
    """A symbolic piece drawn from sad to happy, with its score, and an analysed upload (README's picture)."""
    page.select_option("#engine", "symbolic")
    page.click("#mode-trajectory")
    page.fill("#seconds", "20")
    draw(page, (-0.55, -0.55), (0.55, 0.55))
    page.click("#generate")
    page.wait_for_function("document.querySelector('#measured-path').getAttribute('points')", timeout=60_000)
    assert page.locator("#score").count() == 1
    assert {"MIDI", "MUSICXML", "WAV"} <= set(page.locator("#downloads a").all_inner_texts())
    wav = write_audio(tmp_path / "recording.wav", music_like(8.0, 22050, seed=3), 22050)
    page.set_input_files("#upload", str(wav))
    page.wait_for_function("document.querySelector('#analysis-path').getAttribute('points')", timeout=30_000)
    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 20_000
