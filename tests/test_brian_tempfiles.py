"""Killed processes (Dask workers, SIGKILLed runs) leave none of Brian2's temporary files."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(tmp_path, code, extra_env=None):
    env = {**os.environ, "TMPDIR": str(tmp_path), **(extra_env or {})}
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)


def test_killed_process_leaves_no_brian_files(tmp_path):
    r = _run(tmp_path, "import os, signal, brian_segdend.training.train; os.kill(os.getpid(), signal.SIGKILL)")
    assert r.returncode == -9
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("brian_")] == []


def test_brian_log_kept_when_asked(tmp_path):
    code = "import os, signal, brian_segdend.model.params; os.kill(os.getpid(), signal.SIGKILL)"
    r = _run(tmp_path, code, {"BRIAN_SEGDEND_BRIAN_LOG": "1"})
    assert r.returncode == -9
    assert any(p.name.startswith("brian_debug_") for p in tmp_path.iterdir())


def test_ignored_sigint_stays_ignored_after_brian2_import(tmp_path):
    """A Dask worker or background job ignores SIGINT: importing the package must not make it crash."""
    code = ("import os, signal, time; signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            "import brian_segdend.model.params\n"
            "os.kill(os.getpid(), signal.SIGINT); time.sleep(0.2); print('still here')")
    r = _run(tmp_path, code)
    assert r.returncode == 0 and "still here" in r.stdout, r.stderr
    assert "TypeError" not in r.stderr
