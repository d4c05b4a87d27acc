"""Brian2 imported once, with its temporary files turned off.

At import, Brian2 creates a debug log (``brian_debug_*.log``) and a copy of the running script
(``brian_script_*.py``) in the system's temporary folder and deletes them at a normal exit; a
process that is killed (a Dask worker closed with its cluster, a SIGKILLed run) or that ends
with an uncaught error leaves them behind, one pair per process. This project reports its own
errors, so the files only accumulate: they are closed and deleted right after Brian2's import.
Set ``BRIAN_SEGDEND_BRIAN_LOG=1`` to keep Brian2's behaviour (for a bug report to Brian2).

Brian2's import also replaces the SIGINT handler with one that calls the previous handler. When
that was "ignore" or "default" (a background job, ``nohup``, a Dask worker process), the call
fails with a ``TypeError`` on every Ctrl-C: such a process would crash instead of ignoring the
signal. The previous handler is put back in that case.
"""

from __future__ import annotations

import logging
import os
import signal

import brian2  # noqa: F401  (the import creates the files removed below)
from brian2.utils.logger import BrianLogger

__all__ = ["ENV_BRIAN_LOG", "remove_brian_temp_files", "restore_plain_sigint"]

ENV_BRIAN_LOG = "BRIAN_SEGDEND_BRIAN_LOG"


def remove_brian_temp_files() -> None:
    """Close Brian2's debug-log handler and delete its log and script copy (idempotent)."""
    if os.environ.get(ENV_BRIAN_LOG, "") not in ("", "0"):
        return
    handler = BrianLogger.file_handler
    if handler is not None:
        logging.getLogger("brian2").removeHandler(handler)
        handler.close()
        BrianLogger.file_handler = None
    for attr in ("tmp_log", "tmp_script"):
        path = getattr(BrianLogger, attr, None)
        if path:
            for p in (path, f"{path}.1"):
                try:
                    os.remove(p)
                except OSError:
                    pass
            setattr(BrianLogger, attr, None)


def restore_plain_sigint() -> None:
    """Undo Brian2's SIGINT wrapper where the handler it wraps is "ignore" or "default"."""
    handler = signal.getsignal(signal.SIGINT)
    previous = getattr(handler, "previous_handler", None)
    if previous in (signal.SIG_IGN, signal.SIG_DFL):
        try:
            signal.signal(signal.SIGINT, previous)
        except ValueError:       # not the main thread: handlers can only be set there
            pass


remove_brian_temp_files()
restore_plain_sigint()
