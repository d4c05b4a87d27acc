"""Writing output files without following symbolic links, atomically.

Every file a command writes into its output folder goes through :func:`atomic_open`:

* the data goes to a temporary file next to the target (``<name>.tmp`` unless named),
  created with ``O_CREAT | O_EXCL | O_NOFOLLOW``: a symbolic link (or anything else)
  planted under the temporary name is never opened, let alone written through. A stale
  temporary file (or link) is removed first with ``unlink``, which removes a link itself,
  never its target;
* the temporary file is then renamed onto the target with :func:`os.replace`. A rename
  replaces a symbolic link at the target path by the new file; it does not write to the
  file the link points to.

So a link planted inside an output folder, pointing anywhere, never changes the file it
points to. The output folder itself may be a link made by the user: only names inside it
are protected.
"""

from __future__ import annotations

import contextlib
import io
import os
from pathlib import Path

__all__ = ["UnsafeOutputError", "atomic_open", "atomic_write_bytes", "atomic_write_text", "savefig_atomic",
           "open_nofollow", "remove_file", "fsync_dir"]

_O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


class UnsafeOutputError(OSError):
    """An output file cannot be written without following a link or replacing a non-file."""


def remove_file(path) -> bool:
    """Remove a file or a symbolic link (not what it points to); False if there was none."""
    try:
        os.unlink(path)
        return True
    except FileNotFoundError:
        return False


def open_nofollow(path, flags: int, mode: int = 0o666) -> int:
    """``os.open`` with ``O_NOFOLLOW``; a symbolic link at ``path`` gives UnsafeOutputError."""
    try:
        return os.open(path, flags | _O_NOFOLLOW | _O_CLOEXEC, mode)
    except OSError:
        if os.path.islink(path):
            raise UnsafeOutputError(f"{path}: is a symbolic link; refusing to write through it "
                                    f"(remove the link)") from None
        raise


def _check_target(path: Path):
    """Refuse a target that is a folder (a rename would fail with a confusing message)."""
    if path.is_dir() and not path.is_symlink():
        raise UnsafeOutputError(f"{path}: is a folder, cannot write a file there")


@contextlib.contextmanager
def atomic_open(path, tmp=None, fsync: bool = False):
    """Binary file object whose contents replace ``path`` when the block ends without error.

    Parameters
    ----------
    path : str or Path
        The file to (re)place. A symbolic link there is replaced, not followed.
    tmp : str or Path, optional
        Temporary name (default ``<path>.tmp``), in the same folder as ``path``.
    fsync : bool
        Flush the data to disk before the rename (and the folder after it).
    """
    path = Path(path)
    tmp = Path(tmp) if tmp is not None else path.with_name(path.name + ".tmp")
    _check_target(path)
    remove_file(tmp)
    try:
        fd = open_nofollow(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    except FileExistsError:
        raise UnsafeOutputError(f"{tmp}: appeared while writing (another process?); not overwriting it") from None
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            if fsync:
                os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        remove_file(tmp)
        raise
    if fsync:
        fsync_dir(path.parent)


def fsync_dir(folder) -> None:
    """Flush a folder's entries (a rename) to disk; ignored where the system cannot."""
    try:
        dfd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(dfd)
    except OSError:
        pass
    finally:
        os.close(dfd)


def atomic_write_bytes(path, data: bytes, tmp=None, fsync: bool = False) -> Path:
    """Write ``data`` to ``path`` through :func:`atomic_open`; returns the path."""
    with atomic_open(path, tmp=tmp, fsync=fsync) as f:
        f.write(data)
    return Path(path)


def atomic_write_text(path, text: str, tmp=None, fsync: bool = False) -> Path:
    """Write ``text`` (UTF-8) to ``path`` through :func:`atomic_open`; returns the path."""
    return atomic_write_bytes(path, text.encode("utf-8"), tmp=tmp, fsync=fsync)


def savefig_atomic(fig, path, **kwargs) -> Path:
    """``fig.savefig`` into ``path`` through :func:`atomic_open` (format from the file name)."""
    path = Path(path)
    kwargs.setdefault("format", path.suffix.lstrip(".") or "png")
    buf = io.BytesIO()
    fig.savefig(buf, **kwargs)
    return atomic_write_bytes(path, buf.getvalue())
