"""Sweep throughput on this machine: runs per hour with 1 and 2 Dask workers, and per-task overhead.

Not a test. ``python benchmarks/sweep_bench.py [--runs 4] [--hidden 20] [--train-size 300]``
runs the same small configuration (one seed per run) as a sweep with 1 worker, then with 2,
after one warm-up run that compiles the network, and prints

* runs per hour (runs / wall time of the whole sweep, cluster start-up included) and the ratio;
* per-task overhead: the task's wall time minus its epochs' training and testing time (data
  loading, Brian2's code generation and build check, the initial test, Dask's own cost).

Writes ``benchmarks/sweep_bench.json``. Uses ``$BRIAN_SEGDEND_BUILD_DIR`` for the build.
"""

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=4)
    ap.add_argument("--hidden", type=int, default=20)
    ap.add_argument("--train-size", type=int, default=300)
    ap.add_argument("--test-size", type=int, default=100)
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--out", default=str(Path(__file__).with_name("sweep_bench.json")))
    args = ap.parse_args(argv)
    from brian_segdend.studies.sweep import Engine, expand_points, run_sweep
    from brian_segdend.training.train import TrainConfig, train_run
    base = {"hidden": [args.hidden], "train_size": args.train_size, "test_size": args.test_size, "epochs": 1}
    rows = []
    with tempfile.TemporaryDirectory(prefix="sweep_bench_") as tmp:
        t0 = time.perf_counter()
        res = train_run(TrainConfig.from_dict(dict(base, out=f"{tmp}/warmup")), log=lambda *a: None)
        direct = {"wall_s": time.perf_counter() - t0, "run_wall_s": sum(e["wall_s"] for e in res["epochs"])}
        print(f"warm-up (compile) run in this process: {direct['wall_s']:.1f} s")
        for w in [int(x) for x in args.workers.split(",")]:
            out = Path(tmp) / f"w{w}"
            points = expand_points(base, None, None, list(range(1, args.runs + 1)), out=out)
            t0 = time.perf_counter()
            doc = run_sweep(points, out, Engine(workers=w, dashboard=":0"), log=lambda *a: None)
            wall = time.perf_counter() - t0
            over = [r["task_wall_s"] - r["run_wall_s"] for r in doc["runs"]]
            rows.append({"workers": w, "runs": args.runs, "wall_s": wall, "runs_per_hour": args.runs / wall * 3600,
                         "task_wall_s_mean": float(np.mean([r["task_wall_s"] for r in doc["runs"]])),
                         "run_wall_s_mean": float(np.mean([r["run_wall_s"] for r in doc["runs"]])),
                         "overhead_s_per_task": float(np.mean(over))})
            r = rows[-1]
            print(f"{w} worker(s): {args.runs} runs in {wall:.1f} s = {r['runs_per_hour']:.0f} runs/hour; "
                  f"per task {r['task_wall_s_mean']:.1f} s of which training+testing {r['run_wall_s_mean']:.1f} s, "
                  f"overhead {r['overhead_s_per_task']:.1f} s")
    if len(rows) >= 2:
        print(f"ratio {rows[1]['workers']} vs {rows[0]['workers']} worker(s): "
              f"{rows[1]['runs_per_hour'] / rows[0]['runs_per_hour']:.2f}x")
    Path(args.out).write_text(json.dumps({"config": base, "direct_warmup": direct, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
