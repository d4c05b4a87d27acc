"""Benchmarks of the compiled segregated-dendrite network (issue 7).

    .venv/bin/python benchmarks/run.py [--quick] [--repeats N] [--sections a,b,...] [--explore]

Prints a table and writes ``benchmarks/results.json``. Every measurement runs in its own
worker process (``run.py --worker``), so Brian2's device state, compiler settings and peak
memory are those of that measurement alone. Builds live under
``~/.cache/brian_segdend/bench`` (never the library's own build folders).

Sections (all by default; ``--explore`` adds the exploration of compiler flags, float32,
the input threshold and profiling):

``build``     compile time: cold (empty folder, CCACHE_DISABLE=1), warm (existing folder),
              ccache (fresh folder, ccache on, after a priming build)
``train``     training examples/s at the paper's phase lengths, 784-10, 784-500-10, 784-500-100-10
``test``      test images/s at 250 ms per image, 784-500-10
``numpy``     the plain NumPy reference (brian_segdend/model/numpy_reference.py), 784-500-10, one thread
``runtime``   Brian2 runtime device (numpy target), 784-500-10, a few examples
``scaling``   cost vs hidden size (100, 500, 1000, 2000) and input rate (x0.5, x1, x2), with
              synaptic events counted by the NumPy reference on the same images
``start``     parameter-only change: run_chunk wall minus simulation time on a tiny chunk
``memory``    peak RSS of a full-MNIST training run (one 300,000-step chunk): binary and Python

Times: ``wall`` is run_chunk's wall clock (what training sees: writing run arguments,
running the binary, reading results), ``binary`` the binary's wall clock, ``loop`` the
simulation loop's own timer (Brian2's ``last_run_info``; CPU time). Rates are given as
min/median/max over repeats.
"""

from __future__ import annotations

import os

# one core for NumPy, as for the compiled binary (must be set before NumPy is imported)
for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse
import json
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BENCH_ROOT = Path(os.environ.get("BRIAN_SEGDEND_BENCH_DIR", "~/.cache/brian_segdend/bench")).expanduser()
DEFAULT_CHUNK = 300_000         # train.TrainConfig.chunk_steps
BRIAN2_DEFAULT_FLAGS = ["-w", "-O3", "-ffast-math", "-fno-finite-math-only", "-march=native", "-std=c++11"]


# =============================================================================== worker side
def _params(hidden, **changes):
    from brian_segdend.model.params import ModelParams
    return ModelParams(hidden=tuple(hidden), **changes)


def _equation_dir(variant: str | None) -> str | None:
    """A copy of equations/ with a threshold changed (exploration), or None.

    ``draw_all_pixels``: the input threshold before the change, ``rand() < rate*dt`` (a random
    number for every pixel and step); ``thinned``: hidden and output somas spike when
    ``rand() < phi_max*dt and rand() < phi/phi_max`` (the same probability phi*dt, as two
    independent draws: the second draw and exp are skipped in ~80% of steps)."""
    if not variant:
        return None
    from brian_segdend.model.equations import default_equation_dir
    d = Path(tempfile.mkdtemp(prefix="bench-eqs-"))
    for f in Path(default_equation_dir()).glob("*.eqs"):
        shutil.copy(f, d / f.name)
    changes = {
        "draw_all_pixels": {"input_poisson.eqs": ("#: threshold = pixel > 0 and rand() < rate*dt",
                                                  "#: threshold = rand() < rate*dt")},
        "thinned": {name: ("#: threshold = rand() < phi*dt", "#: threshold = rand() < phi_max*dt and rand() < phi/phi_max")
                    for name in ("hidden_soma.eqs", "output_soma.eqs")},
    }
    if variant not in changes:
        raise ValueError(variant)
    for name, (old, new) in changes[variant].items():
        text = (d / name).read_text()
        if old not in text:
            raise ValueError(f"{name}: '{old}' not found")
        (d / name).write_text(text.replace(old, new))
    return str(d)


def _network(spec: dict):
    """SegDendNetwork for a spec: hidden, chunk_steps, build_dir, variant settings."""
    import brian2 as b2
    if spec.get("flags") is not None:
        b2.prefs.codegen.cpp.extra_compile_args_gcc = list(spec["flags"])
    if spec.get("profile"):
        orig = b2.Network.run

        def run(self, *a, **k):
            k["profile"] = True
            return orig(self, *a, **k)
        b2.Network.run = run
    from brian_segdend.model.network import SegDendNetwork
    p = _params(spec["hidden"])
    kw = {}
    if spec.get("device", "cpp_standalone") == "cpp_standalone":
        kw["build_dir"] = spec["build_dir"]
    if spec.get("dense") is not None:
        kw["dense"] = spec["dense"]
    if spec.get("fast_rng"):
        kw["fast_rng"] = True
    if spec.get("float32"):
        kw["precision"] = "float32"
    net = SegDendNetwork(p, chunk_steps=spec["chunk_steps"], device=spec.get("device", "cpp_standalone"),
                         equation_dir=_equation_dir(spec.get("threshold_variant")), **kw)
    if spec.get("no_unroll"):   # the library adds -funroll-loops when the network is made
        b2.prefs.codegen.cpp.extra_compile_args_gcc = list(spec["flags"])
    return net, p


def _data(n, seed=0, train=True, scale=1.0):
    from brian_segdend.training.data import load_mnist
    d = load_mnist()
    rng = np.random.default_rng(seed)
    X, Y = (d.train_images, d.train_labels) if train else (d.test_images, d.test_labels)
    idx = rng.permutation(len(X))[:n]
    x = X[idx]
    if scale != 1.0:
        x = np.clip(x * scale, 0.0, 1.0)
    return x, Y[idx]


def _lengths(n, seed, p):

    from brian_segdend.model.schedule import phase_lengths
    return phase_lengths(n, np.random.default_rng(seed), int(round(float(p.phase_min / p.dt))),
                         float(p.wald_mean / p.dt), float(p.wald_scale / p.dt))


def _device_times():
    import brian2 as b2
    d = b2.get_device()
    return float(d.timers.get("run_binary", np.nan)), float(getattr(d, "_last_run_time", np.nan))


def w_build(spec):
    """Code generation + compile time of one network."""
    t0 = time.perf_counter()
    net, _ = _network(spec)
    codegen = time.perf_counter() - t0
    t0 = time.perf_counter()
    net.build()
    return {"codegen_s": codegen, "compile_s": time.perf_counter() - t0}


def w_train(spec):
    """Training chunks of n_examples each (phase lengths as in the paper); repeats."""
    from brian_segdend.model.network import initial_weights
    from brian_segdend.model.schedule import pack_chunk
    t0 = time.perf_counter()
    net, p = _network(spec)
    net.build()
    build_s = time.perf_counter() - t0
    n = spec["n_examples"]
    x, y = _data(n * spec["repeats"], seed=1, scale=spec.get("scale", 1.0))
    state = initial_weights(p, np.random.default_rng(0))
    settle = net.settle_steps
    out = []
    for r in range(spec["repeats"]):
        sch = pack_chunk(_lengths(n, 100 + r, p), net.chunk_steps, settle, train=True)
        sl = slice(r * n, r * n + sch.n_examples)
        t0 = time.perf_counter()
        state, res = net.run_chunk(state, x[sl], y[sl], sch, seed=r + 1)
        wall = time.perf_counter() - t0
        binary, loop = _device_times()
        steps = int(sch.end_t_steps[-1] + 1) if sch.n_examples else 0
        out.append({"n": sch.n_examples, "steps": steps, "wall_s": wall, "binary_s": binary, "loop_s": loop})
    result = {"runs": out, "build_s": build_s}
    if spec.get("profile"):
        f = Path(spec["build_dir"]) / f"results_{os.getpid()}" / "profiling_info.txt"
        prof = {}
        for line in f.read_text().splitlines():
            k, v = line.split()
            prof[k] = float(v)
        result["profile"] = prof
    return result


def w_test(spec):
    """classify() at test_duration 250 ms; repeats of n images."""

    from brian_segdend.model.network import initial_weights
    from brian_segdend.training.train import classify
    net, p = _network(spec)
    net.build()
    n = spec["n_examples"]
    x, y = _data(n * spec["repeats"], seed=2, train=False)
    state = initial_weights(p, np.random.default_rng(0))
    out = []
    for r in range(spec["repeats"]):
        sl = slice(r * n, (r + 1) * n)
        t0 = time.perf_counter()
        err, _ = classify(net, state, x[sl], y[sl], seed=r, tag="bench")
        wall = time.perf_counter() - t0
        binary, loop = _device_times()
        out.append({"n": n, "wall_s": wall, "binary_s": binary, "loop_s": loop, "error": err})
    return {"runs": out}


def w_numpy(spec):
    """The NumPy reference: training examples/s and spike counts."""
    from brian_segdend.model.network import initial_weights
    from brian_segdend.model.numpy_reference import NumpyNetwork
    p = _params(spec["hidden"])
    n = spec["n_examples"]
    x, y = _data(n * spec["repeats"], seed=1, scale=spec.get("scale", 1.0))
    state = initial_weights(p, np.random.default_rng(0))
    out = []
    net = NumpyNetwork(p, state)
    for r in range(spec["repeats"]):
        sl = slice(r * n, (r + 1) * n)
        c0 = {k: (list(v) if isinstance(v, list) else v) for k, v in net.counts.items()}
        L = _lengths(n, 100 + r, p)
        t0 = time.perf_counter()
        net.run(x[sl], y[sl], L, np.random.default_rng(r))
        wall = time.perf_counter() - t0
        c = net.counts
        out.append({"n": n, "wall_s": wall, "steps": c["steps"] - c0["steps"],
                    "input_spikes": c["input_spikes"] - c0["input_spikes"],
                    "hidden_spikes": [a - b for a, b in zip(c["hidden_spikes"], c0["hidden_spikes"])],
                    "output_spikes": c["output_spikes"] - c0["output_spikes"],
                    "expected_input_spikes": float(p.phi_max * p.dt) * float(np.sum(x[sl].sum(axis=1) * L.sum(axis=1)))})
    return {"runs": out}


def w_runtime(spec):
    """Brian2 runtime device (numpy target); first run includes runtime code generation."""
    import brian2 as b2

    from brian_segdend.model.network import initial_weights
    from brian_segdend.model.schedule import pack_chunk
    net, p = _network(dict(spec, device="runtime"))
    if spec.get("target"):
        b2.prefs.codegen.target = spec["target"]
    n = spec["n_examples"]
    x, y = _data(n * (spec["repeats"] + 1), seed=1)
    state = initial_weights(p, np.random.default_rng(0))
    out = []
    for r in range(spec["repeats"] + 1):
        L = _lengths(n, 100 + r, p)
        sch = pack_chunk(L, net.chunk_steps, net.settle_steps, train=True)
        sl = slice(r * n, r * n + sch.n_examples)
        t0 = time.perf_counter()
        state, res = net.run_chunk(state, x[sl], y[sl], sch, seed=r + 1)
        wall = time.perf_counter() - t0
        out.append({"n": sch.n_examples, "steps": net.chunk_steps, "wall_s": wall, "first": r == 0})
    return {"runs": out}


def w_start(spec):
    """Parameter-only change on a built network: a tiny chunk (one example) with new eta/g_a."""
    from brian2 import ms

    from brian_segdend.model.network import initial_weights
    from brian_segdend.model.schedule import pack_chunk
    net, p = _network(spec)
    net.build()
    x, y = _data(1, seed=3)
    state = initial_weights(p, np.random.default_rng(0))
    out = []
    for r in range(spec["repeats"]):
        net.set_params(p.replace(g_a=(0.01 * (r + 1)) / ms, eta=tuple(0.2 + 0.01 * r for _ in p.learning_rates)))
        sch = pack_chunk(_lengths(1, r, p), net.chunk_steps, net.settle_steps, train=True)
        t0 = time.perf_counter()
        net.run_chunk(state, x, y, sch, seed=r + 1)
        wall = time.perf_counter() - t0
        binary, loop = _device_times()
        out.append({"wall_s": wall, "binary_s": binary, "loop_s": loop, "start_s": wall - loop,
                    "python_side_s": wall - binary, "binary_startup_s": binary - loop})
    return {"runs": out}


def w_memory(spec):
    """A real full-MNIST training run (train_run, 60,000 examples) stopped after one chunk."""
    from brian_segdend.training.train import TrainConfig, train_run
    out_dir = tempfile.mkdtemp(prefix="bench-mem-")
    os.environ["BRIAN_SEGDEND_BUILD_DIR"] = spec["build_root"]
    if spec.get("prebuild_only"):       # compile in a separate process: the compiler must not count
        from brian_segdend.model.network import SegDendNetwork
        SegDendNetwork(_params([500]), chunk_steps=spec["chunk_steps"]).build()
        return {}
    cfg = TrainConfig(hidden=(500,), train_size=60_000, test_size=spec.get("test_size", 10), epochs=1,
                      out=out_dir, chunk_steps=spec["chunk_steps"])
    import brian2 as b2
    rss_file = Path(out_dir) / "binary_rss.txt"
    # the binary's own peak RSS (ru_maxrss of children also counts pre-exec images of forks)
    b2.prefs.devices.cpp_standalone.run_cmd_unix = ["/usr/bin/time", "-a", "-o", str(rss_file), "-f", "%M %e", "./main"]
    t0 = time.perf_counter()
    try:
        train_run(cfg, log=lambda *a: None, stop_after_chunks=1)
    except KeyboardInterrupt:
        pass
    wall = time.perf_counter() - t0
    runs = [ln.split() for ln in rss_file.read_text().splitlines() if ln.strip() and ln.split()[0].isdigit()]
    shutil.rmtree(out_dir, ignore_errors=True)
    kb = 1024.0   # KiB
    return {"wall_s": wall, "binary_runs": [{"peak_rss_mb": int(m) * kb / 2 ** 20, "wall_s": float(e)} for m, e in runs],
            "binary_peak_rss_mb": max(int(m) for m, _ in runs) * kb / 2 ** 20,
            "python_peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * kb / 2 ** 20}


WORKERS = {"build": w_build, "train": w_train, "test": w_test, "numpy": w_numpy, "runtime": w_runtime,
           "start": w_start, "memory": w_memory}


def worker_main(name, spec_json):
    import warnings
    warnings.filterwarnings("ignore")
    import logging
    logging.getLogger("brian2").setLevel(logging.ERROR)
    spec = json.loads(spec_json)
    result = WORKERS[name](spec)
    sys.stdout.write("\nRESULT " + json.dumps(result) + "\n")


# =============================================================================== driver side
def call(name, spec, env=None, timeout=3600):
    e = dict(os.environ)
    e.update(env or {})
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, json.dumps(spec)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=e, cwd=str(ROOT), timeout=timeout)
    for line in proc.stdout.splitlines()[::-1]:
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"worker {name} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")


def stats(values):
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], float)
    if not len(v):
        return None
    return {"min": float(v.min()), "median": float(np.median(v)), "max": float(v.max()), "n": int(len(v))}


def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import brian2
    return {"cpu": cpu, "cores": os.cpu_count(), "affinity": len(os.sched_getaffinity(0)),
            "loadavg_start": list(os.getloadavg()), "python": platform.python_version(),
            "numpy": np.__version__, "brian2": brian2.__version__, "platform": platform.platform(),
            "compiler": subprocess.run(["g++", "--version"], capture_output=True, text=True).stdout.splitlines()[0]}


def arch_name(hidden):
    return "-".join(map(str, (784, *hidden, 10)))


def bdir(tag):
    return str(BENCH_ROOT / tag)


def fresh_dir(tag):
    d = BENCH_ROOT / "fresh" / f"{tag}-{time.time_ns()}"
    return str(d)


def log(*a):
    print(*a, flush=True)


def train_rates(res):
    runs = res["runs"]
    return {"wall": stats([r["n"] / r["wall_s"] for r in runs]),
            "binary": stats([r["n"] / r["binary_s"] for r in runs]),
            "loop": stats([r["n"] / r["loop_s"] for r in runs]),
            "examples_per_run": runs[0]["n"]}


def section_build(R, a):
    out = {}
    archs = [(500,)] if a.quick else [(), (500,), (500, 100)]
    for h in archs:
        name = arch_name(h)
        spec = {"hidden": list(h), "chunk_steps": DEFAULT_CHUNK}
        res = {}
        cold = []
        for _r in range(1 if a.quick else a.cold_repeats):
            d = fresh_dir(f"cold-{name}")
            cold.append(call("build", dict(spec, build_dir=d), env={"CCACHE_DISABLE": "1"}))
            shutil.rmtree(d, ignore_errors=True)
        res["cold"] = {"codegen_s": stats([c["codegen_s"] for c in cold]), "compile_s": stats([c["compile_s"] for c in cold])}
        wd = bdir(f"base-{name}-{DEFAULT_CHUNK}")
        call("build", dict(spec, build_dir=wd))      # make sure it exists
        warm = [call("build", dict(spec, build_dir=wd)) for _ in range(a.repeats)]
        res["warm"] = {"codegen_s": stats([c["codegen_s"] for c in warm]), "compile_s": stats([c["compile_s"] for c in warm])}
        cc = []
        for _r in range(a.repeats):
            d = fresh_dir(f"ccache-{name}")
            cc.append(call("build", dict(spec, build_dir=d)))
            shutil.rmtree(d, ignore_errors=True)
        res["ccache"] = {"codegen_s": stats([c["codegen_s"] for c in cc]), "compile_s": stats([c["compile_s"] for c in cc])}
        out[name] = res
        log(f"  build {name}: cold {res['cold']['compile_s']['median']:.1f} s, warm {res['warm']['compile_s']['median']:.2f} s, "
            f"ccache {res['ccache']['compile_s']['median']:.1f} s (codegen {res['warm']['codegen_s']['median']:.1f} s)")
    R["build"] = out


def section_train(R, a):
    out = {}
    archs = [(500,)] if a.quick else [(), (500,), (500, 100)]
    for h in archs:
        name = arch_name(h)
        n = 300 if a.quick else 2800       # 2800 training examples ~ one default chunk (300,000 steps)
        res = call("train", {"hidden": list(h), "chunk_steps": DEFAULT_CHUNK, "n_examples": n, "repeats": a.repeats,
                             "build_dir": bdir(f"base-{name}-{DEFAULT_CHUNK}")})
        out[name] = train_rates(res) | {"raw": res}
        log(f"  train {name}: {out[name]['wall']['median']:.0f} ex/s (run_chunk wall), "
            f"{out[name]['loop']['median']:.0f} ex/s (simulation loop)")
    R["train"] = out


def section_test(R, a):
    n = 300 if a.quick else 1200            # one default chunk holds 1200 test images of 250 ms
    res = call("test", {"hidden": [500], "chunk_steps": DEFAULT_CHUNK, "n_examples": n, "repeats": a.repeats,
                        "build_dir": bdir(f"base-784-500-10-{DEFAULT_CHUNK}")})
    R["test"] = {"784-500-10": train_rates(res) | {"raw": res}}
    log(f"  test 784-500-10: {R['test']['784-500-10']['wall']['median']:.0f} images/s")


def section_numpy(R, a):
    n = 10 if a.quick else 40
    res = call("numpy", {"hidden": [500], "n_examples": n, "repeats": a.repeats})
    rates = stats([r["n"] / r["wall_s"] for r in res["runs"]])
    R["numpy"] = {"784-500-10": {"wall": rates, "raw": res}}
    b2 = R.get("train", {}).get("784-500-10")
    if b2:
        R["numpy"]["ratio_brian2_over_numpy"] = b2["wall"]["median"] / rates["median"]
    log(f"  numpy 784-500-10: {rates['median']:.1f} ex/s" +
        (f"; Brian2/NumPy = {R['numpy']['ratio_brian2_over_numpy']:.1f}x" if b2 else ""))


def section_runtime(R, a):
    n = 2 if a.quick else 3
    res = call("runtime", {"hidden": [500], "chunk_steps": 106 * n + 20, "n_examples": n, "repeats": 1 if a.quick else 2})
    later = [r for r in res["runs"] if not r["first"]]
    # the runtime device runs the whole chunk (no early stop): rate per example of the chunk
    rates = stats([r["n"] / r["wall_s"] for r in later])
    R["runtime"] = {"784-500-10": {"wall": rates, "first_run_s": res["runs"][0]["wall_s"], "raw": res}}
    b2 = R.get("train", {}).get("784-500-10")
    if b2:
        R["runtime"]["ratio_standalone_over_runtime"] = b2["wall"]["median"] / rates["median"]
    log(f"  runtime (numpy target) 784-500-10: {rates['median']:.2f} ex/s (first run {res['runs'][0]['wall_s']:.0f} s)")


def section_scaling(R, a):
    n = 100 if a.quick else 300
    rep = max(2, a.repeats if not a.quick else 2)
    sizes = [100, 500] if a.quick else [100, 500, 1000, 2000]
    out = {"hidden": {}, "rate": {}}
    for H in sizes:
        res = call("train", {"hidden": [H], "chunk_steps": DEFAULT_CHUNK, "n_examples": n, "repeats": rep,
                             "build_dir": bdir(f"base-{arch_name((H,))}-{DEFAULT_CHUNK}")})
        cnt = call("numpy", {"hidden": [H], "n_examples": 5, "repeats": 1})
        out["hidden"][H] = _scaling_entry(res, cnt, H)
        log(f"  hidden {H}: {out['hidden'][H]['loop_us_per_example']:.0f} us/example, "
            f"{out['hidden'][H]['events_per_example']:.3g} events/example, {out['hidden'][H]['ns_per_event']:.2f} ns/event")
    for scale in (0.5, 1.0, 2.0):
        res = call("train", {"hidden": [500], "chunk_steps": DEFAULT_CHUNK, "n_examples": n, "repeats": rep, "scale": scale,
                             "build_dir": bdir(f"base-784-500-10-{DEFAULT_CHUNK}")})
        cnt = call("numpy", {"hidden": [500], "n_examples": 5, "repeats": 1, "scale": scale})
        out["rate"][scale] = _scaling_entry(res, cnt, 500)
        log(f"  input x{scale}: {out['rate'][scale]['loop_us_per_example']:.0f} us/example, "
            f"{out['rate'][scale]['events_per_example']:.3g} events/example, {out['rate'][scale]['ns_per_event']:.2f} ns/event")
    # linear fit: loop time per example = a + b * events per example
    pts = [(v["events_per_example"], v["loop_us_per_example"]) for v in list(out["hidden"].values()) + list(out["rate"].values())]
    ev, us = np.array(pts).T
    b, a0 = np.polyfit(ev, us, 1)
    out["fit_us_per_example"] = {"intercept_us": float(a0), "ns_per_event": float(b * 1000)}
    R["scaling"] = out


def _scaling_entry(res, cnt, H):
    c = cnt["runs"][0]
    n = c["n"]
    spikes_in = c["input_spikes"] / n
    spikes_h = c["hidden_spikes"][0] / n
    spikes_o = c["output_spikes"] / n
    ev_spike = spikes_in * H + spikes_h * 10 + spikes_o * H       # W0, W1, Y fan-outs
    ev_learn = 784 * H + H * 10                                    # one weight update per synapse and example
    loop = np.median([r["loop_s"] / r["n"] for r in res["runs"]]) * 1e6
    wall = np.median([r["wall_s"] / r["n"] for r in res["runs"]]) * 1e6
    return {"loop_us_per_example": float(loop), "wall_us_per_example": float(wall),
            "input_spikes_per_example": spikes_in, "hidden_spikes_per_example": spikes_h,
            "output_spikes_per_example": spikes_o, "spike_events_per_example": ev_spike,
            "learning_updates_per_example": ev_learn, "events_per_example": ev_spike + ev_learn,
            "ns_per_event": float(loop * 1000 / (ev_spike + ev_learn)),
            "ns_per_spike_event": float(loop * 1000 / ev_spike),
            "loop_ex_per_s": stats([r["n"] / r["loop_s"] for r in res["runs"]])}


def section_start(R, a):
    res = call("start", {"hidden": [500], "chunk_steps": DEFAULT_CHUNK, "repeats": max(3, a.repeats),
                         "build_dir": bdir(f"base-784-500-10-{DEFAULT_CHUNK}")})
    runs = res["runs"]
    R["start"] = {k: stats([r[k] for r in runs]) for k in ("start_s", "python_side_s", "binary_startup_s", "wall_s")}
    R["start"]["raw"] = res
    log(f"  parameter-only change: run starts after {R['start']['start_s']['median']:.2f} s "
        f"(Python {R['start']['python_side_s']['median']:.2f} s, binary start-up {R['start']['binary_startup_s']['median']:.2f} s)")


def section_memory(R, a):
    spec = {"chunk_steps": DEFAULT_CHUNK if not a.quick else 30_000, "build_root": str(BENCH_ROOT / "memory")}
    call("memory", dict(spec, prebuild_only=True))
    res = call("memory", spec)
    R["memory"] = res
    log(f"  memory (full MNIST, one chunk): binary {res['binary_peak_rss_mb']:.0f} MB, Python {res['python_peak_rss_mb']:.0f} MB")


# ------------------------------------------------------------------------------- exploration
EXPLORE_VARIANTS = {
    # name: spec changes (784-500-10); the baseline is the library's default build
    "baseline": {},
    "generic_pathways": {"dense": False},
    "draw_all_pixels": {"threshold_variant": "draw_all_pixels"},
    "brian2_default_flags": {"flags": BRIAN2_DEFAULT_FLAGS, "no_unroll": True},
    "flags_O2": {"flags": ["-w", "-O2", "-march=native", "-std=c++11"], "no_unroll": True},
    "float32": {"float32": True},
    "fast_rng": {"fast_rng": True},
    "thinned": {"threshold_variant": "thinned"},
    "fast_rng+thinned": {"fast_rng": True, "threshold_variant": "thinned"},
    "float32+fast_rng": {"float32": True, "fast_rng": True},
    "fast_rng+thinned+float32": {"fast_rng": True, "threshold_variant": "thinned", "float32": True},
}
#: variants whose test throughput (250 ms per image) is measured too
EXPLORE_TEST = ("baseline", "generic_pathways", "float32", "float32+fast_rng", "fast_rng+thinned+float32")


def section_explore(R, a):
    n = 300 if a.quick else 1000
    out = dict(R.get("explore", {})) if a.variants else {}   # a subset updates the earlier results
    chunk = DEFAULT_CHUNK
    for name, changes in EXPLORE_VARIANTS.items():
        if a.variants and name not in a.variants:
            continue
        spec = {"hidden": [500], "chunk_steps": chunk, "n_examples": n, "repeats": a.repeats,
                "build_dir": bdir(f"explore-{name}-{chunk}")} | changes
        try:
            res = call("train", spec)
        except RuntimeError as e:
            out[name] = {"error": str(e)[-1500:]}
            log(f"  explore {name}: FAILED")
            continue
        out[name] = train_rates(res) | {"build_s": res["build_s"], "raw": res}
        log(f"  explore {name}: {out[name]['loop']['median']:.0f} ex/s (loop), {out[name]['wall']['median']:.0f} ex/s (wall)")
    base = out.get("baseline")
    if base and "loop" in base:
        for _name, v in out.items():
            if "loop" in v:
                v["gain_vs_baseline"] = v["loop"]["median"] / base["loop"]["median"] - 1
    # test throughput (250 ms per image) of the threshold and float32 variants
    out["test"] = dict(out.get("test", {})) if a.variants else {}
    for name in EXPLORE_TEST:
        if a.variants and name not in a.variants:
            continue
        spec = {"hidden": [500], "chunk_steps": chunk, "n_examples": 300 if a.quick else 1200, "repeats": 2,
                "build_dir": bdir(f"explore-{name}-{chunk}")} | EXPLORE_VARIANTS[name]
        out["test"][name] = train_rates(call("test", spec))
        log(f"  explore test {name}: {out['test'][name]['wall']['median']:.0f} images/s (wall)")
    # profiling: per code object
    if not a.variants or "profile" in a.variants:
        spec = {"hidden": [500], "chunk_steps": chunk, "n_examples": n, "repeats": 1, "profile": True,
                "build_dir": bdir(f"explore-profile-{chunk}")}
        res = call("train", spec)
        nex = res["runs"][0]["n"]
        prof = sorted(res["profile"].items(), key=lambda kv: -kv[1])
        total = sum(v for _, v in prof)
        out["profile"] = {"examples": nex, "total_s": total, "loop_s": res["runs"][0]["loop_s"],
                          "top": [{"codeobject": k, "us_per_example": v / nex * 1e6, "fraction": v / total} for k, v in prof[:15]]}
        log("  profile (us per example):")
        for t in out["profile"]["top"][:10]:
            log(f"    {t['codeobject']:<45s} {t['us_per_example']:8.1f}  {t['fraction']:5.1%}")
    R["explore"] = out


SECTIONS = {"train": section_train, "test": section_test, "numpy": section_numpy, "start": section_start,
            "runtime": section_runtime, "scaling": section_scaling, "memory": section_memory,
            "build": section_build}


def table(R) -> str:
    rows = []

    def rate_row(what, s, unit):
        if s:
            rows.append(f"| {what} | {s['min']:.1f} | {s['median']:.1f} | {s['max']:.1f} | {unit} |")
    for name, v in R.get("train", {}).items():
        rate_row(f"training {name} (run_chunk wall)", v["wall"], "examples/s")
        rate_row(f"training {name} (simulation loop)", v["loop"], "examples/s")
    for name, v in R.get("test", {}).items():
        rate_row(f"test {name}, 250 ms/image (wall)", v["wall"], "images/s")
    if "numpy" in R:
        rate_row("NumPy reference 784-500-10", R["numpy"]["784-500-10"]["wall"], "examples/s")
    if "runtime" in R:
        rate_row("Brian2 runtime (numpy target) 784-500-10", R["runtime"]["784-500-10"]["wall"], "examples/s")
    for name, v in R.get("build", {}).items():
        for kind in ("cold", "warm", "ccache"):
            s = v[kind]["compile_s"]
            rows.append(f"| compile {name} {kind} | {s['min']:.2f} | {s['median']:.2f} | {s['max']:.2f} | s |")
        s = v["warm"]["codegen_s"]
        rows.append(f"| code generation {name} | {s['min']:.2f} | {s['median']:.2f} | {s['max']:.2f} | s |")
    if "start" in R:
        s = R["start"]["start_s"]
        rows.append(f"| parameter-only change: start of run | {s['min']:.2f} | {s['median']:.2f} | {s['max']:.2f} | s |")
    head = "| measurement | min | median | max | unit |\n|---|---|---|---|---|\n"
    txt = head + "\n".join(rows)
    extra = []
    if "numpy" in R and "ratio_brian2_over_numpy" in R["numpy"]:
        extra.append(f"Brian2 standalone / NumPy reference (training, medians): {R['numpy']['ratio_brian2_over_numpy']:.1f}x")
    if "runtime" in R and "ratio_standalone_over_runtime" in R["runtime"]:
        extra.append(f"Brian2 standalone / Brian2 runtime (numpy target): {R['runtime']['ratio_standalone_over_runtime']:.0f}x")
    if "memory" in R:
        m = R["memory"]
        extra.append(f"Peak memory, full-MNIST training chunk: binary {m['binary_peak_rss_mb']:.0f} MB, "
                     f"Python {m['python_peak_rss_mb']:.0f} MB, sum {m['binary_peak_rss_mb'] + m['python_peak_rss_mb']:.0f} MB")
    return txt + ("\n\n" + "\n".join(extra) if extra else "")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="small runs (a few minutes)")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--cold-repeats", type=int, default=1, help="cold compiles per architecture (slow)")
    ap.add_argument("--sections", default=",".join(SECTIONS), help="comma-separated subset of " + ",".join(SECTIONS))
    ap.add_argument("--explore", action="store_true", help="also run the explorations (flags, float32, threshold, profile)")
    ap.add_argument("--variants", default="", help="exploration variants to run (default all), comma-separated")
    ap.add_argument("--out", default=str(HERE / "results.json"))
    ap.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        return worker_main(*a.worker)
    a.variants = [v for v in a.variants.split(",") if v]
    BENCH_ROOT.mkdir(parents=True, exist_ok=True)
    out_path = Path(a.out)
    R = json.loads(out_path.read_text()) if out_path.exists() and a.sections != ",".join(SECTIONS) else {}
    R["machine"] = machine()
    R["settings"] = {"quick": a.quick, "repeats": a.repeats, "chunk_steps": DEFAULT_CHUNK,
                     "started": time.strftime("%Y-%m-%d %H:%M:%S")}
    loads = [os.getloadavg()]
    log(f"machine: {R['machine']['cpu']}, {R['machine']['cores']} cores, load {loads[0][0]:.2f}")
    for name in [s for s in a.sections.split(",") if s]:
        log(f"[{name}]")
        t0 = time.perf_counter()
        SECTIONS[name](R, a)
        loads.append(os.getloadavg())
        R.setdefault("section_wall_s", {})[name] = time.perf_counter() - t0
    if a.explore:
        log("[explore]")
        section_explore(R, a)
        loads.append(os.getloadavg())
    R["machine"]["loadavg_end"] = list(os.getloadavg())
    R["machine"]["loadavg_1min_samples"] = [ln[0] for ln in loads]
    R["table_markdown"] = table(R)
    out_path.write_text(json.dumps(R, indent=1, default=float))
    print()
    print(R["table_markdown"])
    print(f"\nload average (1 min) during the run: {', '.join(f'{ln[0]:.2f}' for ln in loads)}")
    print(f"results in {out_path}")


if __name__ == "__main__":
    main()
