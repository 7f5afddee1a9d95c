"""Progress output when stderr is not a terminal: plain lines, first and last always, others at intervals."""

from moodtune.progress import progress_bar


def test_non_terminal_progress_prints_lines(capsys):
    with progress_bar("encoding", total=4, interval_s=0.0) as advance:
        for _ in range(4):
            advance()
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[0].startswith("encoding: 0/4 (0%)") and lines[-1].startswith("encoding: 4/4 (100%)")
    assert len(lines) == 6  # start, one per step (interval 0), end


def test_disabled_progress_prints_nothing(capsys):
    with progress_bar("encoding", total=3, enabled=False) as advance:
        advance()
    assert capsys.readouterr().err == ""
