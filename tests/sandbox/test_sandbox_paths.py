"""File permission checks and the link-safe file helpers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from llmspell.errors import SpellError
from llmspell.sandbox import Policy, list_dir, read_bytes, resolve_path, write_bytes


def denied(excinfo: pytest.ExceptionInfo) -> str:
    assert excinfo.value.kind == "permission_denied"
    return excinfo.value.message


def test_nothing_is_readable_by_default(layout):
    with pytest.raises(SpellError) as excinfo:
        Policy().check_read(layout.allowed / "file.txt")
    message = denied(excinfo)
    assert f"--allow-read={layout.allowed / 'file.txt'}" in message


def test_allowed_folder_and_below_are_readable(layout):
    policy = Policy(allow_read=(str(layout.allowed),))
    assert policy.check_read(layout.allowed / "sub" / "inner.txt") == layout.allowed / "sub" / "inner.txt"
    assert policy.check_read(layout.allowed) == layout.allowed
    assert read_bytes(policy, "sub/inner.txt", layout.allowed) == b"inner"


def test_error_names_the_flag_for_etc_passwd():
    with pytest.raises(SpellError) as excinfo:
        Policy().check_read("/etc/passwd")
    assert denied(excinfo) == 'read access to "/etc/passwd" is not allowed; run with --allow-read=/etc/passwd'


def test_sibling_with_common_prefix_is_not_allowed(layout):
    policy = Policy(allow_read=(str(layout.allowed),))
    with pytest.raises(SpellError) as excinfo:
        policy.check_read(layout.sibling / "secret.txt")
    denied(excinfo)


def test_dotdot_cannot_leave_the_allowed_folder(layout):
    policy = Policy(allow_read=(str(layout.allowed),))
    with pytest.raises(SpellError) as excinfo:
        read_bytes(policy, "sub/../../outside/secret.txt", layout.allowed)
    denied(excinfo)
    assert read_bytes(policy, "sub/../file.txt", layout.allowed) == b"inside"


def test_symlink_to_a_file_outside_is_refused(layout):
    (layout.allowed / "link").symlink_to(layout.outside / "secret.txt")
    policy = Policy(allow_read=(str(layout.allowed),))
    with pytest.raises(SpellError) as excinfo:
        read_bytes(policy, "link", layout.allowed)
    assert str(layout.outside / "secret.txt") in denied(excinfo)


def test_directory_symlink_in_the_middle_is_refused(layout):
    (layout.allowed / "dirlink").symlink_to(layout.outside)
    policy = Policy(allow_read=(str(layout.allowed),), allow_write=(str(layout.allowed),))
    with pytest.raises(SpellError) as excinfo:
        read_bytes(policy, "dirlink/secret.txt", layout.allowed)
    denied(excinfo)
    with pytest.raises(SpellError) as excinfo:
        write_bytes(policy, "dirlink/new.txt", b"x", layout.allowed)
    denied(excinfo)
    assert not (layout.outside / "new.txt").exists()


def test_symlink_that_stays_inside_is_followed(layout):
    (layout.allowed / "alias").symlink_to(layout.allowed / "sub")
    policy = Policy(allow_read=(str(layout.allowed),))
    assert read_bytes(policy, "alias/inner.txt", layout.allowed) == b"inner"


def test_dotdot_after_a_symlink_applies_to_the_real_folder(layout):
    # a/jump -> outside/deeper ; a/jump/../secret.txt is outside/secret.txt, not a/secret.txt
    (layout.outside / "deeper").mkdir()
    (layout.allowed / "jump").symlink_to(layout.outside / "deeper")
    policy = Policy(allow_read=(str(layout.allowed),))
    assert resolve_path("jump/../secret.txt", base=layout.allowed) == layout.outside / "secret.txt"
    with pytest.raises(SpellError) as excinfo:
        read_bytes(policy, "jump/../secret.txt", layout.allowed)
    denied(excinfo)


def test_missing_component_then_dotdot_into_a_link_is_still_resolved(layout):
    (layout.allowed / "out").symlink_to(layout.outside)
    policy = Policy(allow_read=(str(layout.allowed),))
    with pytest.raises(SpellError) as excinfo:
        policy.check_read(layout.allowed / "missing" / ".." / "out" / "secret.txt")
    denied(excinfo)


def test_symlink_loop_is_a_clean_error(layout):
    (layout.allowed / "loop1").symlink_to(layout.allowed / "loop2")
    (layout.allowed / "loop2").symlink_to(layout.allowed / "loop1")
    policy = Policy(allow_read=(str(layout.allowed),))
    with pytest.raises(SpellError) as excinfo:
        read_bytes(policy, "loop1", layout.allowed)
    assert excinfo.value.kind == "invalid_argument"
    assert "symbolic links" in excinfo.value.message


@pytest.mark.parametrize("name", ["~", "~/file.txt", "$HOME", "${HOME}/x", "%HOME%"])
def test_no_home_or_variable_expansion(layout, name):
    assert resolve_path(name, base=layout.allowed) == layout.allowed / name


def test_tilde_is_a_plain_file_name(layout):
    policy = Policy(allow_read=(str(layout.allowed),), allow_write=(str(layout.allowed),))
    write_bytes(policy, "~/note.txt", b"tilde", layout.allowed, make_parents=True)
    assert (layout.allowed / "~" / "note.txt").read_bytes() == b"tilde"
    with pytest.raises(SpellError) as excinfo:
        Policy(allow_read=(str(layout.allowed),)).check_read("~")  # relative to the cwd, not HOME
    denied(excinfo)


@pytest.mark.parametrize("bad", ["a\x00b", "\x00", ""])
def test_nul_and_empty_paths_are_invalid(layout, bad):
    with pytest.raises(SpellError) as excinfo:
        Policy(allow_read=True).check_read(bad, base=layout.allowed)
    assert excinfo.value.kind == "invalid_argument"


def test_non_string_paths_are_invalid():
    with pytest.raises(SpellError) as excinfo:
        Policy(allow_read=True).check_read(42)  # type: ignore[arg-type]
    assert excinfo.value.kind == "invalid_argument"


def test_relative_paths_start_at_base_or_cwd(layout, monkeypatch):
    policy = Policy(allow_read=(str(layout.allowed),))
    monkeypatch.chdir(layout.allowed / "sub")
    assert read_bytes(policy, "inner.txt") == b"inner"
    assert read_bytes(policy, "file.txt", layout.allowed) == b"inside"


def test_grant_reached_through_a_symlink_covers_the_real_folder(layout):
    (layout.root / "alink").symlink_to(layout.allowed)
    policy = Policy(allow_read=(str(layout.root / "alink"),))
    assert read_bytes(policy, layout.allowed / "file.txt") == b"inside"


def test_relative_grants_are_taken_from_the_cwd(layout, monkeypatch):
    monkeypatch.chdir(layout.root)
    policy = Policy(allow_read=("a",))
    assert policy.check_read(layout.allowed / "file.txt") == layout.allowed / "file.txt"


def test_a_single_file_can_be_granted(layout):
    policy = Policy(allow_read=(str(layout.allowed / "file.txt"),))
    assert read_bytes(policy, layout.allowed / "file.txt") == b"inside"
    with pytest.raises(SpellError):
        policy.check_read(layout.allowed / "sub" / "inner.txt")


def test_deny_wins_over_allow(layout):
    policy = Policy(allow_read=True, deny_read=(str(layout.allowed / "sub"),))
    assert policy.check_read(layout.allowed / "file.txt")
    with pytest.raises(SpellError) as excinfo:
        policy.check_read(layout.allowed / "sub" / "inner.txt")
    assert f"--deny-read={layout.allowed / 'sub'}" in denied(excinfo)
    with pytest.raises(SpellError) as excinfo:
        Policy(allow_write=True, deny_write=True).check_write(layout.allowed / "x")
    denied(excinfo)


def test_deny_cannot_be_dodged_through_a_link(layout):
    (layout.allowed / "sneaky").symlink_to(layout.allowed / "sub")
    policy = Policy(allow_read=(str(layout.allowed),), deny_read=(str(layout.allowed / "sub"),))
    with pytest.raises(SpellError) as excinfo:
        read_bytes(policy, "sneaky/inner.txt", layout.allowed)
    denied(excinfo)


def test_read_permission_does_not_grant_write(layout):
    policy = Policy(allow_read=(str(layout.allowed),))
    with pytest.raises(SpellError) as excinfo:
        write_bytes(policy, "file.txt", b"changed", layout.allowed)
    assert "--allow-write=" in denied(excinfo)
    assert (layout.allowed / "file.txt").read_text() == "inside"


def test_write_creates_and_replaces_files(layout):
    policy = Policy(allow_write=(str(layout.allowed),))
    (layout.allowed / "file.txt").chmod(0o640)
    real = write_bytes(policy, "file.txt", b"new", layout.allowed)
    assert real == layout.allowed / "file.txt"
    assert real.read_bytes() == b"new"
    assert real.stat().st_mode & 0o777 == 0o640
    write_bytes(policy, "file.txt", b"+more", layout.allowed, append=True)
    assert real.read_bytes() == b"new+more"
    assert sorted(p.name for p in layout.allowed.iterdir()) == ["file.txt", "sub"]  # no temp files left


def test_write_creates_parents_only_inside_writable_folders(layout):
    policy = Policy(allow_write=(str(layout.allowed / "out"),))
    write_bytes(policy, layout.allowed / "out" / "deep" / "x.txt", b"x", make_parents=True)
    assert (layout.allowed / "out" / "deep" / "x.txt").read_bytes() == b"x"
    with pytest.raises(SpellError) as excinfo:
        write_bytes(policy, layout.allowed / "elsewhere" / "x.txt", b"x", make_parents=True)
    denied(excinfo)
    assert not (layout.allowed / "elsewhere").exists()


def test_write_without_parents_reports_not_found(layout):
    policy = Policy(allow_write=(str(layout.allowed),))
    with pytest.raises(SpellError) as excinfo:
        write_bytes(policy, "nope/x.txt", b"x", layout.allowed)
    assert excinfo.value.kind == "not_found"


def test_writing_onto_a_directory_is_invalid(layout):
    policy = Policy(allow_write=(str(layout.allowed),))
    with pytest.raises(SpellError) as excinfo:
        write_bytes(policy, "sub", b"x", layout.allowed)
    assert excinfo.value.kind == "invalid_argument"
    assert (layout.allowed / "sub").is_dir()


def test_writing_through_a_symlink_to_outside_is_refused(layout):
    (layout.allowed / "victim").symlink_to(layout.outside / "secret.txt")
    policy = Policy(allow_write=(str(layout.allowed),))
    with pytest.raises(SpellError) as excinfo:
        write_bytes(policy, "victim", b"pwned", layout.allowed)
    denied(excinfo)
    assert (layout.outside / "secret.txt").read_text() == "outside secret"


class SwapAfterCheck(Policy):
    """A policy whose check passes and then lets an attacker swap a path component."""

    def check_read(self, path, *, base=None):  # type: ignore[override]
        real = super().check_read(path, base=base)
        self._swap()
        return real

    def check_write(self, path, *, base=None):  # type: ignore[override]
        real = super().check_write(path, base=base)
        self._swap()
        return real

    def _swap(self) -> None:
        swap = _SWAPS.pop(0) if _SWAPS else None
        if swap:
            swap()


_SWAPS: list = []


def test_directory_swapped_for_a_symlink_after_the_check_is_not_followed(layout):
    (layout.outside / "inner.txt").write_text("outside inner")
    sub = layout.allowed / "sub"

    def swap() -> None:
        sub.rename(layout.allowed / "sub-moved")
        sub.symlink_to(layout.outside)

    _SWAPS[:] = [swap]
    policy = SwapAfterCheck(allow_read=(str(layout.allowed),))
    with pytest.raises(SpellError) as excinfo:
        read_bytes(policy, "sub/inner.txt", layout.allowed)
    assert excinfo.value.kind == "permission_denied"


def test_file_swapped_for_a_symlink_after_the_check_is_not_read(layout):
    target = layout.allowed / "file.txt"

    def swap() -> None:
        target.unlink()
        target.symlink_to(layout.outside / "secret.txt")

    _SWAPS[:] = [swap]
    policy = SwapAfterCheck(allow_read=(str(layout.allowed),))
    with pytest.raises(SpellError) as excinfo:
        read_bytes(policy, "file.txt", layout.allowed)
    assert excinfo.value.kind == "permission_denied"


def test_write_replaces_a_symlink_planted_after_the_check(layout):
    target = layout.allowed / "report.txt"
    _SWAPS[:] = [lambda: target.symlink_to(layout.outside / "secret.txt")]
    policy = SwapAfterCheck(allow_write=(str(layout.allowed),))
    write_bytes(policy, "report.txt", b"report", layout.allowed)
    assert (layout.outside / "secret.txt").read_text() == "outside secret"
    assert not target.is_symlink()
    assert target.read_bytes() == b"report"


def test_write_into_a_folder_swapped_after_the_check_is_refused(layout):
    sub = layout.allowed / "sub"

    def swap() -> None:
        sub.rename(layout.allowed / "sub-moved")
        sub.symlink_to(layout.outside)

    _SWAPS[:] = [swap]
    policy = SwapAfterCheck(allow_write=(str(layout.allowed),))
    with pytest.raises(SpellError) as excinfo:
        write_bytes(policy, "sub/new.txt", b"x", layout.allowed)
    assert excinfo.value.kind == "permission_denied"
    assert not (layout.outside / "new.txt").exists()


def test_reading_a_fifo_is_refused_without_blocking(layout):
    os.mkfifo(layout.allowed / "pipe")
    policy = Policy(allow_read=(str(layout.allowed),))
    with pytest.raises(SpellError) as excinfo:
        read_bytes(policy, "pipe", layout.allowed)
    assert excinfo.value.kind == "invalid_argument"


def test_reading_a_directory_or_missing_file(layout):
    policy = Policy(allow_read=(str(layout.allowed),))
    with pytest.raises(SpellError) as excinfo:
        read_bytes(policy, "sub", layout.allowed)
    assert excinfo.value.kind == "invalid_argument"
    with pytest.raises(SpellError) as excinfo:
        read_bytes(policy, "missing.txt", layout.allowed)
    assert excinfo.value.kind == "not_found"


def test_read_size_cap(layout):
    policy = Policy(allow_read=(str(layout.allowed),))
    assert read_bytes(policy, "file.txt", layout.allowed, max_bytes=6) == b"inside"
    with pytest.raises(SpellError) as excinfo:
        read_bytes(policy, "file.txt", layout.allowed, max_bytes=5)
    assert excinfo.value.kind == "limit_exceeded"


def test_list_dir_reports_links_without_following_them(layout):
    (layout.allowed / "link").symlink_to(layout.outside)
    policy = Policy(allow_read=(str(layout.allowed),))
    assert list_dir(policy, ".", layout.allowed) == [
        {"name": "file.txt", "type": "file", "size": 6},
        {"name": "link", "type": "symlink"},
        {"name": "sub", "type": "dir"},
    ]
    with pytest.raises(SpellError) as excinfo:
        list_dir(policy, "link", layout.allowed)
    denied(excinfo)
    with pytest.raises(SpellError) as excinfo:
        list_dir(policy, "file.txt", layout.allowed)
    assert excinfo.value.kind == "invalid_argument"


def test_list_dir_needs_read_permission(layout):
    with pytest.raises(SpellError) as excinfo:
        list_dir(Policy(allow_write=(str(layout.allowed),)), layout.allowed)
    denied(excinfo)


def test_resolve_accepts_path_objects(layout):
    assert resolve_path(Path("sub"), base=layout.allowed) == layout.allowed / "sub"
