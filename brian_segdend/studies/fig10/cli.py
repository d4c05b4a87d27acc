"""Figure 10's command line and output files.

``python -m brian_segdend fig10 [options]``: :func:`parser`, :func:`config_from_args`,
:func:`write_outputs` (``fig10.json``, ``fig10.png``, ``fig10_sweep.png``) and :func:`main`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from ...model.params import ModelParams, ParameterError
from ...training.options import OneLineParser, add_set_option, finite_float, nonneg_int, positive_int, seed_int
from ...training.safeio import atomic_write_text
from ..common import finite, json_default
from .experiment import run_experiment
from .figures import make_figures
from .protocol import Fig10Config

__all__ = ["parser", "config_from_args", "write_outputs", "main"]


def parser() -> argparse.ArgumentParser:
    """The options of ``python -m brian_segdend fig10``."""
    d = Fig10Config()
    ap = OneLineParser(
        prog="python -m brian_segdend fig10",
        description="Figure 10 of Guerguiev et al. (2017): predicted basal LTP/LTD against the timing of "
                    "apical input. Writes fig10.json, fig10.png and fig10_sweep.png.")
    ap.add_argument("--out", type=Path, default=Path("results/fig10"), help="output folder (default: %(default)s)")
    ap.add_argument("--n-neurons", type=positive_int, default=None, help=f"neurons per protocol (default {d.n_neurons}; quick 20)")
    ap.add_argument("--trials", type=positive_int, default=None, help=f"trials, each with its own RNG seed (default {d.trials}; quick 3)")
    ap.add_argument("--seed", type=seed_int, default=d.seed, help="master seed (default: %(default)s)")
    ap.add_argument("--g-a", type=finite_float, default=d.g_a,
                    help="apical->soma conductance (1/ms) for the conditions (default: %(default)s)")
    ap.add_argument("--g-a-sweep", type=finite_float, nargs="+", default=list(d.g_a_sweep), help="g_a values (1/ms) of the sweep")
    ap.add_argument("--basal-rate", type=finite_float, default=d.basal_rate, help="active basal afferent rate, Hz (default: %(default)s)")
    ap.add_argument("--basal-rate-sweep", type=finite_float, nargs="+", default=None, help="basal rates (Hz) of the sweep")
    ap.add_argument("--n-basal", type=positive_int, default=d.n_basal, help="basal afferents per neuron (default: %(default)s)")
    ap.add_argument("--n-silent", type=nonneg_int, default=d.n_silent, help="silent basal afferents per neuron (default: %(default)s)")
    ap.add_argument("--n-apical", type=positive_int, default=d.n_apical, help="apical afferents per neuron (default: %(default)s)")
    ap.add_argument("--apical-rate", type=finite_float, default=d.apical_rate,
                    help="apical afferent rate when on, Hz (default: %(default)s)")
    ap.add_argument("--apical-v", type=finite_float, default=d.apical_v, help="mean apical voltage when on (default: %(default)s)")
    ap.add_argument("--phase-ms", type=finite_float, default=d.phase_ms, help="length of each phase, ms (default: %(default)s)")
    ap.add_argument("--pulse-ms", type=finite_float, default=None, help="apical pulse length in the onset sweep (default: phase length)")
    ap.add_argument("--sweep-step-ms", type=finite_float, default=None, help=f"onset/offset spacing (default {d.sweep_step_ms}; quick 10)")
    ap.add_argument("--map-step-ms", type=finite_float, default=None,
                    help=f"onset x offset map spacing (default {d.map_step_ms}; quick 20)")
    ap.add_argument("--eta", type=finite_float, default=None, help="hidden learning rate, ms^2 (default: Table 1, 0.21)")
    ap.add_argument("--quick", action="store_true", help="small population, coarse sweeps (smoke test)")
    add_set_option(ap)
    ap.add_argument("--no-figures", action="store_true", help="write fig10.json only")
    return ap


def config_from_args(args) -> Fig10Config:
    """A Fig10Config from parsed ``fig10`` options (``--quick`` gives the small defaults)."""
    changes = dict(seed=args.seed, g_a=args.g_a, g_a_sweep=tuple(args.g_a_sweep), basal_rate=args.basal_rate,
                   n_basal=args.n_basal, n_silent=args.n_silent, n_apical=args.n_apical,
                   apical_rate=args.apical_rate, apical_v=args.apical_v, phase_ms=args.phase_ms,
                   pulse_ms=args.pulse_ms, eta=args.eta)
    for name in ("n_neurons", "trials", "sweep_step_ms", "map_step_ms"):
        v = getattr(args, name)
        if v is not None:
            changes[name] = v
    if args.basal_rate_sweep is not None:
        changes["basal_rate_sweep"] = tuple(args.basal_rate_sweep)
    return Fig10Config.quick(**changes) if args.quick else Fig10Config(**changes)


def write_outputs(results: dict, extras: dict, out: Path, figures: bool = True) -> list[Path]:
    """Write ``fig10.json`` (NaN as null) and, unless ``figures`` is False, the two PNGs."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "fig10.json"
    atomic_write_text(path, json.dumps(finite(results), indent=1, default=json_default))
    written = [path]
    if figures:
        written += make_figures(results, extras, out)
    return written


def main(argv=None) -> int:
    """Command line: ``python -m brian_segdend fig10 [options]``."""
    args = parser().parse_args(argv)
    try:
        cfg = config_from_args(args)
        params = ModelParams(hidden=(1,), timing="paper", user_params=dict(args.user_params or []))
        cfg.validate(params)
    except ParameterError as e:
        print(f"fig10: error: {e}", file=sys.stderr)
        return 2
    results, extras = run_experiment(cfg, params, log=lambda m: print(m, file=sys.stderr))
    written = write_outputs(results, extras, Path(args.out), figures=not args.no_figures)
    c = results["conditions"]
    tm = results["timing"]
    print(f"fig10: compile {tm['compile_s'] or 0:.1f} s (cached builds are fast), experiment {tm['experiment_s']:.1f} s "
          f"({tm['runs']} runs, {tm['per_run_s']:.2f} s each)")
    for name, s in c.items():
        print(f"  {name:17s} dw = {s['dw_percent_mean']:+.3f} ± {s['dw_percent_sem']:.3f} % "
              f"({s['dw_mean']:+.3e} ± {s['dw_sem']:.1e} ms), silent max |dw| = {s['dw_silent_max_abs']:.1e}")
    for pth in written:
        print(f"  wrote {pth}")
    return 0
