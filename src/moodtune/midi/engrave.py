"""Sheet music: MIDI -> MusicXML (music21, quantised) -> SVG pages (verovio)."""

from __future__ import annotations

import os
from pathlib import Path

from moodtune.errors import MoodtuneError
from moodtune.fsutil import atomic_path, write_text_atomic


def midi_to_musicxml(midi_path: str | os.PathLike[str], out: str | os.PathLike[str]) -> Path:
    """Parse a MIDI file with music21 (quantised to sixteenths and triplets) and write MusicXML."""
    from music21 import converter

    try:
        score = converter.parse(str(midi_path), quantizePost=True, quarterLengthDivisors=(4, 3))
    except Exception as exc:  # music21 raises many types on odd MIDI
        raise MoodtuneError(f"{midi_path}: cannot make a score ({type(exc).__name__}: {exc})") from exc
    out = Path(out)
    with atomic_path(out) as tmp:
        score.write("musicxml", fp=str(tmp))
    return out


def musicxml_to_svg(musicxml: str | os.PathLike[str], out: str | os.PathLike[str], max_pages: int = 20) -> list[Path]:
    """Engrave MusicXML with verovio: page 1 to ``out``, later pages to ``out-2.svg``, ``out-3.svg`` ..."""
    pages = []
    for page, svg in enumerate(engrave_pages(musicxml, max_pages), start=1):
        path = svg_page_path(out, page)
        write_text_atomic(path, svg)
        pages.append(path)
    return pages


def svg_page_path(out: str | os.PathLike[str], page: int) -> Path:
    """Where page ``page`` (from 1) of a score engraved to ``out`` goes: ``out``, then ``out-2.svg`` ..."""
    out = Path(out)
    return out if page == 1 else out.with_name(f"{out.stem}-{page}{out.suffix}")


def engrave_pages(musicxml: str | os.PathLike[str], max_pages: int = 20) -> list[str]:
    """The SVG text of each page (at most ``max_pages``) of MusicXML engraved with verovio."""
    import verovio

    verovio.enableLog(verovio.LOG_ERROR)  # layout warnings ("insufficient space to draw mixed beam") are noise
    # the fonts' folder is set explicitly: outside the main thread the toolkit's default path is its build folder
    tk = verovio.toolkit(False)
    if not tk.setResourcePath(str(Path(verovio.__file__).parent / "data")):
        raise MoodtuneError(f"verovio's fonts are missing from {Path(verovio.__file__).parent / 'data'}")
    tk.setOptions({"pageWidth": 2100, "pageHeight": 2970, "scale": 40, "adjustPageHeight": True, "footer": "none"})
    if not tk.loadFile(str(musicxml)):
        raise MoodtuneError(f"{musicxml}: verovio could not load this MusicXML")
    return [tk.renderToSVG(page) for page in range(1, min(tk.getPageCount(), max_pages) + 1)]
