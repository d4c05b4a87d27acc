"""``python -m brian_segdend paper summary --out DIR``: every figure's claims in one table.

Collects the figures' JSON files found anywhere under ``DIR`` (``fig5.json``, ``fig6b.json``,
``fig6c.json``, ``fig7.json``, ``fig8.json``, ``fig9.json`` and ``fig10.json``, those present)
into one table: figure, claim, the paper's value,
this implementation's value, the epochs and seeds behind it, PASS/FAIL (or "not judged" with
the reason). Prints it and writes ``summary.json`` and ``summary.md`` into ``DIR``.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

__all__ = ["FILES", "collect_rows", "main"]

FILES = ("fig5.json", "fig6b.json", "fig6c.json", "fig7.json", "fig8.json", "fig9.json", "fig10.json")
#: figure label of each file
_LABELS = {"fig5.json": "5", "fig6b.json": "6B", "fig6c.json": "6C", "fig7.json": "7", "fig8.json": "8",
           "fig9.json": "9", "fig10.json": "10"}

#: Figure 6B's claims (brian_segdend.fig6 writes them without a paper value):
#: text prefix -> (paper value, the networks behind the claim)
_FIG6_PAPER = (("784-10 levels off", "784-10 asymptotes early (8.3%)", ("784-10",)),
               ("the deep networks still improve", "784-500-10 and 784-500-100-10 keep improving to epoch 60",
                ("784-500-10", "784-500-100-10")),
               ("two hidden layers", "3.2% (two hidden layers) vs 4.1% (one)", ("784-500-10", "784-500-100-10")),
               ("784-10 within", "8.3%", ("784-10",)), ("784-500-10 within", "4.1%", ("784-500-10",)),
               ("784-500-100-10 within", "3.2%", ("784-500-100-10",)),
               # the supplement (paper fig6 --supplement): per-neuron random plateau times
               ("784-10: per-neuron random plateau times", "similar curves (Fig. 6 supplement)", ("784-10",)),
               ("784-500-10: per-neuron random plateau times", "similar curves (Fig. 6 supplement)", ("784-500-10",)),
               ("784-500-100-10: per-neuron random plateau times", "similar curves (Fig. 6 supplement)",
                ("784-500-100-10",)))


def _fig6_rows(doc: dict) -> list[dict]:
    prog = doc.get("progress", {})
    archs = doc.get("architectures", {})

    def seeds_of(names):
        return sorted({s for n in names for s, r in archs.get(n, {}).get("seeds", {}).items() if r.get("test_error")},
                      key=lambda s: (len(str(s)), str(s)))

    rows = []
    for c in doc.get("claims", []):
        paper, names = next(((p, n) for prefix, p, n in _FIG6_PAPER if c["claim"].startswith(prefix)), ("", tuple(prog)))
        reached = min((prog.get(n, {}).get("epochs_reached", 0) for n in names), default=0)
        rows.append({"claim": c["claim"], "paper": paper, "value": c.get("detail", ""), "epochs": reached,
                     "seeds": seeds_of(names), "result": c["result"]})
    return rows


def _study_rows(doc: dict) -> list[dict]:
    rows = []
    for c in doc.get("claims", []):
        rows.append({"claim": c["claim"], "paper": c.get("paper", ""), "value": c.get("value") or c.get("detail", ""),
                     "epochs": c.get("epochs"), "seeds": c.get("seeds"), "result": c["result"],
                     "detail": c.get("detail")})
    return rows


def _fig10_rows(doc: dict) -> list[dict]:
    """Figure 10's prediction: the sign of the basal weight change set by the timing of apical input."""
    cond = doc.get("conditions", {})
    rows = []

    def sign_row(name, want, paper):
        c = cond.get(name)
        text = f"{name.replace('_', ' ')}: basal weight change is {'LTD (< 0)' if want < 0 else 'LTP (> 0)'}"
        if not c:
            rows.append({"claim": text, "paper": paper, "value": "missing", "epochs": None, "seeds": None,
                         "result": "not judged"})
            return
        m, sem = c["dw_percent_mean"], c["dw_percent_sem"]
        ok = (m * want > 0) and abs(m) > 2 * sem
        rows.append({"claim": text, "paper": paper, "value": f"{m:+.3f} ± {sem:.3f}% of the initial weight "
                     f"(n = {c['n']})", "epochs": None, "seeds": c.get("n"), "result": "PASS" if ok else "FAIL"})

    sign_row("early_apical", -1, "LTD when apical input comes early (alpha^f > alpha^t)")
    sign_row("late_apical", +1, "LTP when apical input comes late (alpha^f < alpha^t)")
    c = cond.get("no_apical")
    if c:
        rows.append({"claim": "no apical input: no basal weight change", "paper": "no plasticity without apical input",
                     "value": f"{c['dw_percent_mean']:+.3f}% (n = {c['n']})", "epochs": None, "seeds": c.get("n"),
                     "result": "PASS" if abs(c["dw_percent_mean"]) <= 2 * c["dw_percent_sem"] + 1e-12 else "FAIL"})
    return rows


def collect_rows(folder) -> tuple[list[dict], list[str]]:
    """(rows, source files) for every figure JSON under ``folder`` (sorted by figure, then path)."""
    folder = Path(folder)
    found = []
    for name in FILES:
        found += sorted(p for p in folder.rglob(name) if p.is_file())
    rows, sources = [], []
    for path in found:
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            rows.append({"figure": path.name, "source": str(path), "claim": "(unreadable)", "paper": "",
                         "value": str(e), "epochs": None, "seeds": None, "result": "not judged"})
            continue
        sources.append(str(path))
        fig = _LABELS[path.name]
        part = (_fig6_rows(doc) if fig == "6B" else _fig10_rows(doc) if fig == "10" else _study_rows(doc))
        note = ""
        if (doc.get("config") or {}).get("quick"):
            note = " (quick)"
        elif doc.get("paper_scale") is False:
            note = f" ({', '.join(doc.get('networks') or ['?'])}, not the paper's scale)"
        for r in part:
            rows.append({"figure": fig + note, "source": str(path.relative_to(folder)), **r})
    return rows, sources


def _seeds_text(seeds):
    if seeds is None:
        return ""
    if isinstance(seeds, (list, tuple)):
        return ",".join(map(str, seeds)) if seeds else "none"
    return str(seeds)


def _md_cell(text) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ")


def markdown(rows: list[dict]) -> str:
    lines = ["| figure | claim | paper | this implementation | epochs | seeds | result |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append("| " + " | ".join(_md_cell(x) for x in (r["figure"], r["claim"], r["paper"], r["value"],
                                                             "" if r["epochs"] is None else r["epochs"],
                                                             _seeds_text(r["seeds"]), r["result"])) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    """``python -m brian_segdend paper summary --out DIR``."""
    from ..model.params import ParameterError  # noqa: PLC0415 (start-up cost: imported only when the command runs)
    from ..training.options import OneLineParser  # noqa: PLC0415 (start-up cost: imported only when the command runs)
    ap = OneLineParser(prog="python -m brian_segdend paper summary",
                       description="Collect fig5.json, fig6b.json, fig6c.json, fig7.json, fig8.json, fig9.json and fig10.json "
                                   "found under --out "
                                   "into one table of the paper's claims; writes summary.json and summary.md there.")
    ap.add_argument("--out", default="results", help="folder searched (recursively) and written to (default results)")
    args = ap.parse_args(list(argv or []))
    folder = Path(args.out)
    if not folder.is_dir():
        raise ParameterError(f"--out {folder}: no such folder")
    rows, sources = collect_rows(folder)
    counts = {k: sum(r["result"] == k for r in rows) for k in ("PASS", "FAIL", "not judged")}
    doc = {"folder": str(folder), "sources": sources, "rows": rows, "counts": counts,
           "written": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    tmp = folder / "summary.json.tmp"
    tmp.write_text(json.dumps(doc, indent=2, default=str))
    tmp.replace(folder / "summary.json")
    md = (f"# The paper's claims: this implementation's results\n\nCollected from {len(sources)} file(s) under "
          f"`{folder}`: " + ", ".join(f"`{Path(s).relative_to(folder)}`" for s in sources) + "\n\n" + markdown(rows)
          + f"\n{counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['not judged']} not judged.\n")
    tmp = folder / "summary.md.tmp"
    tmp.write_text(md)
    tmp.replace(folder / "summary.md")
    if not sources:
        print(f"no figure JSON ({', '.join(FILES)}) found under {folder}")
    for r in rows:
        tag = r["result"] if r["result"] != "not judged" else "N/A"
        ep = f"{r['epochs']} ep" if r["epochs"] is not None else ""
        print(f"[{tag:4s}] Fig. {r['figure']:10s} {r['claim']}\n        paper: {r['paper']} | here: {r['value']}"
              + (f" | {ep}" if ep else "") + (f" | seeds {_seeds_text(r['seeds'])}" if r["seeds"] is not None else ""))
    print(f"{counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['not judged']} not judged; "
          f"written: {folder / 'summary.json'}, {folder / 'summary.md'}")
    return 0
