"""The comparison's command line and output files.

``python -m brian_segdend compare [options]``: :func:`parser`, :func:`write_outputs` and
:func:`main`.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ...training.options import OneLineParser, positive_int, seed_int
from ...training.safeio import atomic_write_text
from ..common import finite, json_default  # strict JSON (NaN -> null, numpy -> Python)
from .analysis import compare_models
from .figures import make_figure
from .models import MODELS
from .protocol import ProtocolConfig
from .report import comparison_markdown, models_markdown

__all__ = ["write_outputs", "parser", "main"]


def write_outputs(results: dict, out: Path) -> list:
    """Write ``comparison.json``, ``comparison.md``, ``comparison.png`` and ``models.md`` into ``out``; returns the paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "comparison.json", out / "comparison.md", out / "comparison.png", out / "models.md"]
    atomic_write_text(paths[0], json.dumps(finite(results), indent=1, default=json_default))
    atomic_write_text(paths[1], comparison_markdown(results))
    make_figure(results, paths[2])
    atomic_write_text(paths[3], models_markdown())
    return paths


def parser() -> argparse.ArgumentParser:
    """The options of ``python -m brian_segdend compare``."""
    d = ProtocolConfig()
    ap = OneLineParser(prog="python -m brian_segdend compare",
                                 description="Pair STDP, Clopath voltage STDP, Urbanczik-Senn dendritic prediction, "
                                             "Payeur et al.'s burst-dependent rule and the segregated-dendrite model "
                                             "on the Figure 10 protocol. Writes comparison.json, comparison.md, "
                                             "comparison.png and models.md.")
    ap.add_argument("--out", type=Path, default=Path("results/compare"), help="output folder (default: %(default)s)")
    ap.add_argument("--n-neurons", type=positive_int, default=None,
                    help=f"neurons per condition and trial (default {d.n_neurons}; quick 20)")
    ap.add_argument("--trials", type=positive_int, default=None, help=f"trials (default {d.trials}; quick 2)")
    ap.add_argument("--seed", type=seed_int, default=d.seed, help="seed (default: %(default)s)")
    ap.add_argument("--models", nargs="+", default=["stdp", "clopath", "urbanczik_senn", "payeur", "segdend"],
                    choices=list(MODELS), help="models to run (default: all)")
    ap.add_argument("--quick", action="store_true", help="small populations (smoke test)")
    return ap


def main(argv=None) -> int:
    """Command line: ``python -m brian_segdend compare [options]``."""
    args = parser().parse_args(argv)
    n = args.n_neurons if args.n_neurons is not None else (20 if args.quick else ProtocolConfig.n_neurons)
    trials = args.trials if args.trials is not None else (2 if args.quick else ProtocolConfig.trials)
    if n < 1 or trials < 1 or (n * trials < 2):
        print("compare: error: --n-neurons and --trials must be >= 1, with at least 2 neurons in all", file=sys.stderr)
        return 2
    cfg = ProtocolConfig(n_neurons=n, trials=trials, seed=args.seed)
    t0 = time.perf_counter()
    results = compare_models(cfg, models=tuple(args.models), log=lambda m: print(m, file=sys.stderr))
    results["timing_s"]["total"] = time.perf_counter() - t0
    paths = write_outputs(results, args.out)
    print(comparison_markdown(results))
    for p in paths:
        print(f"wrote {p}")
    return 0
