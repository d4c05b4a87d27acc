"""Preloaded into every worker process of the sweep's LocalCluster (``preload=``).

A terminal's Ctrl-C reaches the whole foreground process group, workers included. The sweep's
client handles it (cancels the tasks, closes the cluster: exit 130); a worker that took the
signal too would die printing a KeyboardInterrupt traceback. Workers therefore ignore SIGINT.
"""

import signal


def dask_setup(worker):  # noqa: ARG001  (Dask's preload hook)
    """Ignore SIGINT in this worker process (the client stops it)."""
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:   # not the main thread
        pass
