import json

import pytest

from moodtune.fsutil import atomic_path, write_json_atomic


def test_atomic_write_replaces_target(tmp_path):
    target = tmp_path / "a" / "x.json"
    write_json_atomic(target, {"a": 1})
    write_json_atomic(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in target.parent.iterdir()] == ["x.json"]


def test_failed_write_leaves_old_content_and_no_temp_file(tmp_path):
    target = tmp_path / "x.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), atomic_path(target) as tmp:
        tmp.write_text("half-writ")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.txt"]


def test_a_filesystem_without_locks_warns_and_goes_on(tmp_path, monkeypatch):
    import errno
    import fcntl

    import pytest

    from moodtune.fsutil import file_lock

    def no_locks(fd, op):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    ran = []
    with (
        pytest.warns(UserWarning, match=r"lock: this filesystem does not support file locks"),
        file_lock(tmp_path / "lock"),
    ):
        ran.append(True)
    assert ran == [True]
