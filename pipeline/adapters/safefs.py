"""File-system work that never follows a symlink and never depends on the umask.

Everything the pipeline writes, moves or deletes below its root goes through here: each folder is opened
component by component with `O_DIRECTORY|O_NOFOLLOW` relative to its parent's descriptor (`dir_fd=`), starting at
a trusted anchor (the root the operator configured). A planted symlink, or a plain file where a folder belongs,
stops the walk with `UnsafePathError`; nothing is written through it. Every folder and file made here gets its
mode (and, when configured, its group plus setgid on folders) explicitly with fchmod/fchown after creation.
"""

from __future__ import annotations

import errno
import os
import secrets
import shutil
import stat
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from pipeline.errors import UnsafePathError

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC  # a FIFO must not block the reader


@dataclass(frozen=True)
class Access:
    """Mode and group for what is made in one place."""
    mode: int
    """Permission bits for folders (or files), set explicitly; the umask plays no part."""
    gid: int | None = None
    """Group to give it (chgrp); on folders also setgid, so files delivered inside inherit the group."""

    def for_files(self) -> "Access":
        """The matching file access: no execute bits, no setgid."""
        return Access(self.mode & 0o666, self.gid)


PRIVATE_DIR = Access(0o700)
PRIVATE_FILE = Access(0o600)


def parts_of(rel: str | PurePosixPath | Sequence[str]) -> tuple[str, ...]:
    """A relative path as its components; `..`, absolute paths and empty names are refused."""
    items = tuple(PurePosixPath(rel).parts) if isinstance(rel, (str, PurePosixPath)) else tuple(rel)
    for name in items:
        if name in ("", ".", "..") or "/" in name or "\x00" in name:
            raise UnsafePathError(f"Ongeldige padnaam: {'/'.join(items)!r}", rule="pad")
    return items


def apply_access(fd: int, access: Access, *, folder: bool) -> None:
    """Set mode (and group) on an open descriptor; a folder keeps/gets setgid when it has a group."""
    if access.gid is not None and os.fstat(fd).st_gid != access.gid:
        os.fchown(fd, -1, access.gid)
    mode = access.mode
    if folder and (access.gid is not None or os.fstat(fd).st_mode & stat.S_ISGID):
        mode |= stat.S_ISGID  # chmod without the bit would clear a setgid inherited from the parent
    os.fchmod(fd, mode)


def _refusal(parent_fd: int, name: str, shown: str) -> UnsafePathError:
    try:
        st = os.stat(name, dir_fd=parent_fd, follow_symlinks=False)
    except OSError:
        return UnsafePathError(f"{shown} is niet als map te openen.", rule="pad")
    if stat.S_ISLNK(st.st_mode):
        target = os.readlink(name, dir_fd=parent_fd)
        return UnsafePathError(f"{shown} is een symbolische koppeling (naar {target}); sopipe volgt die niet en "
                               "schrijft er niets in. Verwijder de koppeling.", rule="symlink")
    return UnsafePathError(f"{shown} is geen map; verwijder of hernoem het bestand.", rule="geen-map")


def open_anchor(anchor: Path) -> int:
    """Open the trusted starting folder (the root as configured; only it may be reached through a link)."""
    return os.open(anchor, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)


def open_dir(parent_fd: int, parts: Sequence[str], *, create: Access | None = None, shown: str = "") -> int:
    """Open the folder `parts` below `parent_fd`, never through a symlink; make missing parts with `create`."""
    fd = os.dup(parent_fd)
    walked: list[str] = [shown] if shown else []
    try:
        for name in parts_of(parts):
            walked.append(name)
            try:
                child = os.open(name, DIR_FLAGS, dir_fd=fd)
            except FileNotFoundError:
                if create is None:
                    raise
                try:
                    os.mkdir(name, 0o700, dir_fd=fd)
                except FileExistsError:
                    pass
                try:
                    child = os.open(name, DIR_FLAGS, dir_fd=fd)
                except OSError as e:
                    if e.errno in (errno.ELOOP, errno.ENOTDIR):
                        raise _refusal(fd, name, "/".join(walked)) from None
                    raise
                apply_access(child, create, folder=True)
            except OSError as e:
                if e.errno in (errno.ELOOP, errno.ENOTDIR):
                    raise _refusal(fd, name, "/".join(walked)) from None
                raise
            os.close(fd)
            fd = child
        return fd
    except BaseException:
        os.close(fd)
        raise


@contextmanager
def folder(anchor: Path, parts: Sequence[str] | str, *, create: Access | None = None,
           shown: str | None = None) -> Iterator[int]:
    """A descriptor of `anchor/parts` (walked without following links), closed afterwards."""
    anchor_fd = open_anchor(anchor)
    try:
        fd = open_dir(anchor_fd, parts_of(parts), create=create, shown=shown if shown is not None else "")
    finally:
        os.close(anchor_fd)
    try:
        yield fd
    finally:
        os.close(fd)


def write_at(dir_fd: int, name: str, data: bytes, *, access: Access = PRIVATE_FILE) -> None:
    """Write `name` in the folder atomically: a hidden temp file, fsync, explicit mode, rename, fsync the folder.

    The temp file is created with O_EXCL|O_NOFOLLOW; the rename replaces whatever `name` was (a planted symlink is
    replaced, never written through)."""
    parts_of([name])
    tmp = f".{name}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            apply_access(fd, access, folder=False)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
        os.fsync(dir_fd)
    except BaseException:
        try:
            os.unlink(tmp, dir_fd=dir_fd)
        except FileNotFoundError:
            pass
        raise


def write_file(anchor: Path, rel: str | PurePosixPath, data: bytes, *, access: Access = PRIVATE_FILE,
               folders: Access = PRIVATE_DIR) -> None:
    """`write_at` for a path below `anchor`, making missing folders with `folders`."""
    *dirs, name = parts_of(rel)
    with folder(anchor, dirs, create=folders) as fd:
        write_at(fd, name, data, access=access)


def read_at(dir_fd: int, name: str, *, limit: int, access: Access | None = None) -> tuple[bytes, os.stat_result]:
    """The bytes of a regular file (never through a link, a FIFO or a device); `limit` bounds what is read.

    With `access`, the file's mode (and group) is set on the same descriptor."""
    fd = os.open(name, READ_FLAGS, dir_fd=dir_fd)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise IsADirectoryError(errno.EISDIR, "not a regular file", name)
        if access is not None:
            apply_access(fd, access, folder=False)
        if st.st_size > limit:
            return b"", st
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        return b"".join(chunks), st
    finally:
        os.close(fd)


def read_tree(dir_fd: int, *, shown: str = "", skip_hidden: bool = True) -> dict[str, bytes]:
    """Every regular file below the folder as {relative posix path: bytes}, walked by descriptors.

    Refuses (UnsafePathError) at the first symlink, FIFO, device or socket found anywhere below, before returning
    anything: nothing is ever read through a link. `skip_hidden`: files whose name starts with a dot are left out
    (a link of that name still refuses)."""
    out: dict[str, bytes] = {}

    def walk(fd: int, prefix: str) -> None:
        for name in sorted(os.listdir(fd)):
            here = f"{prefix}{name}"
            st = entry(fd, name)
            if st is None:
                continue  # removed meanwhile
            if stat.S_ISDIR(st.st_mode):
                child = open_dir(fd, [name], shown=f"{shown}/{prefix}".rstrip("/"))
                try:
                    walk(child, f"{here}/")
                finally:
                    os.close(child)
                continue
            if not stat.S_ISREG(st.st_mode):
                raise _refusal(fd, name, f"{shown}/{here}") if stat.S_ISLNK(st.st_mode) else UnsafePathError(
                    f"{shown}/{here} is geen gewoon bestand; sopipe leest het niet. Verwijder het.", rule="geen-bestand")
            if skip_hidden and name.startswith("."):
                continue
            try:
                data, _ = read_at(fd, name, limit=1 << 62)
            except OSError as e:
                if e.errno == errno.ELOOP:  # replaced by a link after the lstat
                    raise _refusal(fd, name, f"{shown}/{here}") from None
                raise
            out[here] = data

    walk(dir_fd, "")
    return out


def entry(dir_fd: int, name: str) -> os.stat_result | None:
    """lstat of `name` in the folder, None when it is not there."""
    try:
        return os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
    except FileNotFoundError:
        return None


def free_name(dir_fd: int, name: str, *, suffix: str = "") -> str:
    """`name+suffix`, or `stem.N.ext+suffix` for the first N not taken in the folder."""
    p = PurePosixPath(name)
    candidate, n = name + suffix, 1
    while entry(dir_fd, candidate) is not None:
        candidate = f"{p.stem}.{n}{p.suffix}{suffix}"
        n += 1
    return candidate


def move_at(src_fd: int, name: str, dst_fd: int, *, suffix: str = "", replace: bool = False) -> str:
    """Move `name` between two open folders without overwriting anything there (unless `replace`); the name it got.

    A file (or a symlink itself, never its target) is hard-linked under a free name and then unlinked, so a name
    taken meanwhile is never clobbered; a folder is renamed. Same file system only (the root)."""
    while True:
        target = name + suffix if replace else free_name(dst_fd, name, suffix=suffix)
        st = os.stat(name, dir_fd=src_fd, follow_symlinks=False)
        if replace or stat.S_ISDIR(st.st_mode):
            os.rename(name, target, src_dir_fd=src_fd, dst_dir_fd=dst_fd)
            break
        try:
            os.link(name, target, src_dir_fd=src_fd, dst_dir_fd=dst_fd, follow_symlinks=False)
        except FileExistsError:
            continue
        os.unlink(name, dir_fd=src_fd)
        break
    os.fsync(dst_fd)  # durable where it went; should the unlink be lost, the journal (by SHA-256) knows the copy
    return target


def remove_tree_at(dir_fd: int, name: str) -> None:
    """Remove `name` (file, link or folder tree) in the folder; links inside are removed, never followed."""
    st = entry(dir_fd, name)
    if st is None:
        return
    if stat.S_ISDIR(st.st_mode):
        shutil.rmtree(name, dir_fd=dir_fd)
    else:
        os.unlink(name, dir_fd=dir_fd)


def find_links(top: Path, *, limit: int = 50) -> list[Path]:
    """Symlinks at or below `top` (not followed), for `sopipe doctor`."""
    found: list[Path] = []
    if top.is_symlink():
        return [top]
    for folder_path, dirs, files in os.walk(top, followlinks=False):
        for name in dirs + files:
            p = Path(folder_path) / name
            if p.is_symlink():
                found.append(p)
                if len(found) >= limit:
                    return found
    return found
