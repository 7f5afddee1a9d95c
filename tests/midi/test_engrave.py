"""Engraving: MIDI -> MusicXML -> SVG, on the main thread and on a worker thread (as the web app's jobs do)."""

from __future__ import annotations

import threading
from pathlib import Path

from moodtune.midi.engrave import midi_to_musicxml, musicxml_to_svg
from tests.conftest import write_midi


def engrave(tmp_path: Path) -> list[Path]:
    midi = write_midi(tmp_path / "tune.mid", [60, 62, 64, 65, 67, 69, 71, 72])
    return musicxml_to_svg(midi_to_musicxml(midi, tmp_path / "tune.musicxml"), tmp_path / "tune.svg")


def test_a_score_is_engraved_with_its_notes(tmp_path: Path) -> None:
    pages = engrave(tmp_path)
    svg = pages[0].read_text()
    assert svg.lstrip().startswith(("<?xml", "<svg"))
    assert svg.count('class="note"') == 8


def test_engraving_works_on_a_worker_thread(tmp_path: Path) -> None:
    found: list[object] = []
    worker = threading.Thread(target=lambda: found.append(engrave(tmp_path)))
    worker.start()
    worker.join()
    assert found and isinstance(found[0], list) and found[0][0].is_file(), "the engraving failed on the thread"
