"""The run lock: one live process per output folder (``flock`` on ``run.lock``)."""

from __future__ import annotations

import fcntl
import json
import os
import socket
import sys
import time
from pathlib import Path

from .errors import RunLockedError, TrainingError
from .safeio import open_nofollow

__all__ = ["RunLock"]


class RunLock:
    """An exclusive ``flock`` on ``run.lock`` in the output folder, held for the whole run.

    The kernel releases the lock when the holding process ends, however it ends (even
    ``kill -9``), so there is no stale-lock guessing: a lock file nobody holds is simply
    taken over. The file holds the holder's pid and host, only to name it in the error
    message of a second run. It is opened with ``O_NOFOLLOW`` (a planted link is refused)
    and removed when the lock is released; a process that locked a file just removed by
    the previous holder notices that the path now names another file and tries again.
    """

    def __init__(self, folder: Path):
        self.path = Path(folder) / "run.lock"
        self.held = False
        self._fd = None

    def acquire(self):
        """Take the lock or raise RunLockedError naming the holder; returns self."""
        for _ in range(100):
            try:
                fd = open_nofollow(self.path, os.O_RDWR | os.O_CREAT, 0o644)
            except OSError as e:
                raise TrainingError(f"{self.path}: cannot open the run lock ({e.strerror or e})") from None
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                other = self._read_fd(fd)
                os.close(fd)
                who = (f"pid {other.get('pid')} on {other.get('host')}" if other else "a process that is starting")
                raise RunLockedError(
                    f"{self.path}: another run ({who}) is using this output folder; wait for it or "
                    f"choose another --out") from None
            except OSError as e:
                os.close(fd)
                raise TrainingError(f"{self.path}: cannot lock ({e.strerror or e}; a file system without "
                                    f"locks?)") from None
            try:
                same = os.path.samestat(os.fstat(fd), os.lstat(self.path))
            except FileNotFoundError:
                same = False
            if not same:          # the previous holder removed the file after we opened it
                os.close(fd)
                continue
            previous = self._read_fd(fd)
            if previous:
                print(f"note: {self.path} was left by pid {previous.get('pid')} on {previous.get('host')}, "
                      f"which ended without releasing it (stale lock; taken over)", file=sys.stderr)
            me = {"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()}
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps(me).encode(), 0)
            self._fd = fd
            self.held = True
            return self
        raise RunLockedError(f"{self.path}: could not take the lock (the file keeps being replaced)")

    @staticmethod
    def _read_fd(fd):
        try:
            return json.loads(os.pread(fd, 4096, 0).decode("utf-8", "replace"))
        except (OSError, ValueError):
            return None

    def release(self):
        """Remove the lock file and release the lock (if held)."""
        if self.held:
            try:
                if os.path.samestat(os.fstat(self._fd), os.lstat(self.path)):
                    os.unlink(self.path)      # while still locked: nobody can hold this file next
            except OSError:
                pass
            os.close(self._fd)                # releases the flock
            self._fd = None
            self.held = False

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *exc):
        self.release()
