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
from ...training.options import (
    OneLineParser,
    add_set_option,
    finite_float,
    nonneg_int,
    positive_float,
    positive_int,
    seed_int,
)
from ...training.safeio import atomic_write_text
from ..common import finite, json_default
from .bursts import run_bursts
from .experiment import run_experiment
from .figures import make_burst_figure, make_figures
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
    ap.add_argument("--plateau-code", choices=["rate", "burst"], default="rate",
                    help="plateaus of the main results: rate (default: alpha^t - alpha^f) or burst "
                         "(Poisson bursts of mean burst_scale * alpha, counted by a basal memory; own build)")
    ap.add_argument("--burst-scale", type=positive_float, default=None,
                    help="with --plateau-code burst: mean spikes in the burst of a full plateau (default 4)")
    ap.add_argument("--burst-scales", type=_scales, default=None, metavar="K1,K2,...",
                    help="also run the conditions and the onset sweep with burst-coded plateaus for these burst "
                         "scales (one more build): 'bursts' in fig10.json and fig10_bursts.png")
    ap.add_argument("--quick", action="store_true", help="small population, coarse sweeps (smoke test)")
    add_set_option(ap)
    ap.add_argument("--no-figures", action="store_true", help="write fig10.json only")
    return ap


def _scales(text: str) -> tuple:
    """``'1,4,16'`` -> (1.0, 4.0, 16.0), each a positive number."""
    return tuple(positive_float(t) for t in text.split(",") if t.strip()) or positive_float("")


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
    """Write ``fig10.json`` (NaN as null) and, unless ``figures`` is False, the two PNGs (three with ``bursts``)."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "fig10.json"
    atomic_write_text(path, json.dumps(finite(results), indent=1, default=json_default))
    written = [path]
    if figures:
        written += make_figures(results, extras, out)
        if results.get("bursts"):
            written.append(make_burst_figure(results, out))
    return written


def _pairings(s: dict) -> str:
    """The 'pairings until the sign is significant' of one condition's statistics, in words."""
    if s.get("sign_pairings") is not None:
        return f"sign significant (p < 0.01) after ~{s['sign_pairings']} pairing(s)"
    if s.get("sign_p_value") is None:
        return "no change to test"
    return f"sign not significant (p = {s['sign_p_value']:.2g})"


def main(argv=None) -> int:
    """Command line: ``python -m brian_segdend fig10 [options]``."""
    args = parser().parse_args(argv)
    try:
        cfg = config_from_args(args)
        code = {"plateau_code": args.plateau_code}
        if args.burst_scale is not None:
            if args.plateau_code != "burst":
                raise ParameterError("--burst-scale: needs --plateau-code burst (or use --burst-scales)")
            code["burst_scale"] = args.burst_scale
        params = ModelParams(hidden=(1,), timing="paper", user_params=dict(args.user_params or []), **code)
        cfg.validate(params)
    except ParameterError as e:
        print(f"fig10: error: {e}", file=sys.stderr)
        return 2
    log = lambda m: print(m, file=sys.stderr)   # noqa: E731
    results, extras = run_experiment(cfg, params, log=log)
    if args.burst_scales:
        results["bursts"] = run_bursts(cfg, params, args.burst_scales, log=log)
    written = write_outputs(results, extras, Path(args.out), figures=not args.no_figures)
    c = results["conditions"]
    tm = results["timing"]
    print(f"fig10: compile {tm['compile_s'] or 0:.1f} s (cached builds are fast), experiment {tm['experiment_s']:.1f} s "
          f"({tm['runs']} runs, {tm['per_run_s']:.2f} s each)")
    for name, s in c.items():
        print(f"  {name:17s} dw = {s['dw_percent_mean']:+.3f} ± {s['dw_percent_sem']:.3f} % "
              f"({s['dw_mean']:+.3e} ± {s['dw_sem']:.1e} ms), silent max |dw| = {s['dw_silent_max_abs']:.1e}, "
              f"{_pairings(s)}")
    for row in results.get("bursts", {}).get("by_scale", []):
        bs = row["burst_statistics"]
        print(f"  bursts k = {row['burst_scale']:g}: (N^t - N^f)/k - (alpha^t - alpha^f) = {bs['residual_mean']:+.4f} "
              f"± {bs['residual_sem']:.4f}, variance {bs['residual_var']:.4f} (expected {bs['expected_var']:.4f})")
        for name, s in row["conditions"].items():
            print(f"    {name:17s} dw = {s['dw_percent_mean']:+.3f} ± {s['dw_percent_sem']:.3f} % "
                  f"({s['dw_mean']:+.3e} ± {s['dw_sem']:.1e} ms), {_pairings(s)}")
    for pth in written:
        print(f"  wrote {pth}")
    return 0
