"""sandbox/fileops.py and the walk primitives of sandbox/paths.py: Go's file
operations, each checked and done relative to a folder opened by the walk."""

from __future__ import annotations

import errno
import os
import stat

import pytest

from llmspell.errors import SpellError
from llmspell.sandbox import Policy, fileops, paths


@pytest.fixture
def rw(layout):
    return Policy(allow_read=(str(layout.allowed),), allow_write=(str(layout.allowed),))


def test_a_name_is_what_remove_rename_and_readlink_act_on(layout, rw):
    """A link inside the grant to a file inside it: remove, rename and readlink
    act on the link itself, not on what it points to."""
    link = layout.allowed / "link"
    link.symlink_to("file.txt")
    assert fileops.readlink_path(rw, "link", base=layout.allowed) == "file.txt"
    fileops.rename(rw, "link", "moved", base=layout.allowed)
    assert (layout.allowed / "moved").is_symlink()
    fileops.remove(rw, "moved", base=layout.allowed)
    assert not (layout.allowed / "moved").exists() and (layout.allowed / "file.txt").read_text() == "inside"


def test_a_link_out_of_the_grant_is_checked_as_a_name(layout, rw):
    """Removing a link that points outside removes the link (it is inside); statting
    it follows it, and what it names is outside."""
    out = layout.allowed / "out"
    out.symlink_to(layout.outside / "secret.txt")
    with pytest.raises(SpellError):
        fileops.stat_path(rw, "out", base=layout.allowed)
    with pytest.raises(SpellError):
        fileops.chmod(rw, "out", 0o777, base=layout.allowed)
    fileops.remove(rw, "out", base=layout.allowed)
    assert (layout.outside / "secret.txt").read_text() == "outside secret"


def test_stat_follows_a_link_inside(layout, rw):
    (layout.allowed / "link").symlink_to("file.txt")
    assert fileops.stat_path(rw, "link", base=layout.allowed).st_size == len("inside")


def test_mkdir_all(layout, rw):
    fileops.make_dir(rw, "x/y/z", 0o755, base=layout.allowed, parents=True)
    assert (layout.allowed / "x" / "y" / "z").is_dir()
    fileops.make_dir(rw, "x/y/z", 0o755, base=layout.allowed, parents=True)  # existing: fine
    with pytest.raises(OSError) as excinfo:
        fileops.make_dir(rw, "file.txt", 0o755, base=layout.allowed, parents=True)
    assert excinfo.value.errno == errno.ENOTDIR
    with pytest.raises(SpellError):
        fileops.make_dir(rw, str(layout.outside / "new"), 0o755, parents=True)


def test_remove_all(layout, rw):
    (layout.allowed / "tree" / "a").mkdir(parents=True)
    (layout.allowed / "tree" / "a" / "f").write_text("x")
    (layout.allowed / "tree" / "out").symlink_to(layout.outside)
    fileops.remove(rw, "tree", base=layout.allowed, recursive=True)
    assert not (layout.allowed / "tree").exists()
    assert (layout.outside / "secret.txt").exists()  # a link inside is removed, never followed
    fileops.remove(rw, "tree", base=layout.allowed, recursive=True)  # missing: no error


def test_a_hard_link_needs_write_permission_on_the_file(layout):
    read_only = Policy(allow_read=(str(layout.allowed), str(layout.outside)), allow_write=(str(layout.allowed),))
    with pytest.raises(SpellError) as excinfo:
        fileops.hard_link(read_only, str(layout.outside / "secret.txt"), "mine", base=layout.allowed)
    assert "--allow-write=" in excinfo.value.message
    assert not (layout.allowed / "mine").exists()


def test_symlink_target_is_resolved_from_the_link_folder(layout, rw):
    fileops.symlink(rw, "../file.txt", "sub/link", base=layout.allowed)
    assert (layout.allowed / "sub" / "link").read_text() == "inside"
    with pytest.raises(SpellError):
        fileops.symlink(rw, "../../outside/secret.txt", "sub/out", base=layout.allowed)


def test_truncate_counts_growth(layout, rw):
    taken: list[int] = []
    fileops.truncate(rw, "file.txt", 100, base=layout.allowed, reserve=taken.append)
    fileops.truncate(rw, "file.txt", 10, base=layout.allowed, reserve=taken.append)
    assert taken == [94]
    assert (layout.allowed / "file.txt").stat().st_size == 10


def test_open_file_checks_what_the_flags_allow(layout):
    read_only = Policy(allow_read=(str(layout.allowed),))
    fd, real = paths.open_file(read_only, "file.txt", os.O_RDONLY, base=layout.allowed)
    os.close(fd)
    assert real == layout.allowed / "file.txt"
    for flags in (os.O_RDWR, os.O_WRONLY, os.O_RDONLY | os.O_TRUNC, os.O_RDONLY | os.O_CREAT):
        with pytest.raises(SpellError):
            paths.open_file(read_only, "file.txt", flags, base=layout.allowed)
    assert (layout.allowed / "file.txt").read_text() == "inside"


def test_open_file_refuses_what_is_not_a_regular_file(layout, rw):
    os.mkfifo(layout.allowed / "fifo")
    for flags in (os.O_RDONLY, os.O_RDWR):
        with pytest.raises(SpellError) as excinfo:
            paths.open_file(rw, "fifo", flags, base=layout.allowed)
        assert "not a regular file" in excinfo.value.message
    fd, _ = paths.open_file(rw, "sub", os.O_RDONLY, base=layout.allowed)  # a folder, to list
    assert stat.S_ISDIR(os.fstat(fd).st_mode)
    os.close(fd)


def test_open_file_truncates_only_after_the_checks(layout, rw):
    fd, _ = paths.open_file(rw, "file.txt", os.O_WRONLY | os.O_TRUNC, base=layout.allowed)
    os.close(fd)
    assert (layout.allowed / "file.txt").read_text() == ""


def test_resolve_without_following_the_last_name(layout):
    (layout.allowed / "link").symlink_to(layout.outside)
    assert paths.resolve_path(layout.allowed / "link", follow_last=False) == layout.allowed / "link"
    assert paths.resolve_path(layout.allowed / "link") == layout.outside
    assert paths.resolve_path(layout.allowed / "sub" / "..", follow_last=False) == layout.allowed


def test_a_link_that_vanishes_while_resolving_is_a_missing_name(layout, monkeypatch):
    """lstat saw a link, readlink finds none (swapped meanwhile): no OSError escapes."""
    (layout.allowed / "link").symlink_to("sub")

    def gone(path, *args, **kwargs):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)

    monkeypatch.setattr(paths.os, "readlink", gone)
    assert paths.resolve_path(layout.allowed / "link" / "x") == layout.allowed / "link" / "x"
