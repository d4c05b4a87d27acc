"""Figure 6C of the paper: t-SNE of the test set's activity at the input and the hidden layers.

``python -m brian_segdend paper fig6c --weights W`` reads a trained network's weights (``train
--hidden 500,100 ...``'s ``weights.npz``), computes the activity of ``--test-size`` test images at
the input (pixels) and at every hidden layer, embeds each in 2-D with :func:`tsne` (exact t-SNE in
NumPy, van der Maaten & Hinton 2008: Gaussian affinities at a given perplexity, Student-t
similarities, gradient descent with momentum, gains and early exaggeration) and scores how well
the digits separate per layer: the mean silhouette in the embedding and the leave-one-out
5-nearest-neighbour accuracy in the embedding. Writes ``fig6c.json`` and ``fig6c.png`` (one
panel per layer, coloured by digit).

Activity (``--activity``):

* ``spiking`` (default): the compiled network's own test run (:func:`recorded_activities`): each
  test image for ``test_duration`` as in ``evaluate``, and each hidden layer's window mean of its
  filtered spike trains (``sbar``, the rate estimate the learning rule uses; 1/ms) recorded at
  the end of the forward phase through the Recording API
  (``Recording().events("hidden<k>_soma", "end_f", ["sbar", "Vbar_f"])``, an EventMonitor in the
  compiled code; a build of its own, compiled once). The input layer is its pixels (its rates are
  phi_max * pixel). The JSON also reports how the recorded rates compare with the rate read-out.
* ``rate``: the rate read-out (:func:`layer_activities`, no simulation): the steady state of
  docs/MODEL.md's forward phase without feedback (g_a = 0): input rates s_in = phi_max * pixel,
  hidden V = k_b (W s_below + b) with k_b = g_b / (g_l + g_b + g_a) and rates phi_max sigma(V)
  (the kernel has area 1, so the mean filtered train equals the rate).

Parameters: the weights file's configuration when it has one, else the defaults.

Claim (PASS/FAIL): the separation increases with depth, i.e. silhouette and kNN accuracy are
larger at every layer than at the one below it.
"""

from __future__ import annotations

import time
from pathlib import Path

import matplotlib
import numpy as np
from brian2 import ms

from ..model.params import ModelParams, ParameterError
from ..training.data import load_mnist, subset
from ..training.options import OneLineParser, positive_int
from ..training.train import TrainConfig, load_weights
from . import paper_study as S

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402 (after selecting the Agg backend)

__all__ = ["tsne", "silhouette", "knn_accuracy", "layer_activities", "recorded_activities", "readout_agreement",
           "check_claims", "main"]


def _sqdist(X):
    s = np.sum(X * X, axis=1)
    return np.maximum(s[:, None] + s[None, :] - 2 * X @ X.T, 0.0)


def _affinities(D, perplexity: float, tol: float = 1e-5, steps: int = 60) -> np.ndarray:
    """Row-wise Gaussian conditional probabilities with the given perplexity (bisection on the precision)."""
    n = D.shape[0]
    P = np.zeros((n, n))
    target = np.log(perplexity)
    for i in range(n):
        d = np.delete(D[i], i)
        lo, hi, beta = 0.0, np.inf, 1.0
        for _ in range(steps):
            p = np.exp(-(d - d.min()) * beta)
            sp = p.sum()
            H = np.log(sp) + beta * np.sum(d * p) / sp - beta * d.min()
            if abs(H - target) < tol:
                break
            if H > target:
                lo, beta = beta, beta * 2 if hi == np.inf else (beta + hi) / 2
            else:
                hi, beta = beta, (beta + lo) / 2
        P[i, np.arange(n) != i] = p / sp
    return P


def tsne(X, perplexity: float = 30.0, iterations: int = 750, seed: int = 0, pca_dims: int = 50) -> np.ndarray:
    """2-D t-SNE embedding of the rows of ``X`` (exact, O(n^2) memory; a few thousand rows at most).

    The rows are centred and reduced to ``pca_dims`` principal components first.
    """
    X = np.asarray(X, float)
    X = X - X.mean(axis=0)
    if X.shape[1] > pca_dims:
        U, s, _ = np.linalg.svd(X, full_matrices=False)
        X = U[:, :pca_dims] * s[:pca_dims]
    scale = np.sqrt(np.mean(np.sum(X * X, axis=1)))
    X = X / (scale if scale > 0 else 1.0)
    n = X.shape[0]
    P = _affinities(_sqdist(X), min(perplexity, (n - 1) / 3))
    P = np.maximum((P + P.T) / (2 * n), 1e-12)
    rng = np.random.default_rng(seed)
    Y = rng.normal(0, 1e-4, (n, 2))
    vel, gains = np.zeros_like(Y), np.ones_like(Y)
    lr = max(n / 12.0, 50.0)
    for it in range(iterations):
        exag = 12.0 if it < 100 else 1.0
        num = 1.0 / (1.0 + _sqdist(Y))
        np.fill_diagonal(num, 0.0)
        Q = np.maximum(num / num.sum(), 1e-12)
        W = (exag * P - Q) * num
        grad = 4.0 * (W.sum(axis=1)[:, None] * Y - W @ Y)
        gains = np.where(np.sign(grad) != np.sign(vel), gains + 0.2, gains * 0.8).clip(0.01)
        vel = (0.5 if it < 250 else 0.8) * vel - lr * gains * grad
        Y = Y + vel
        Y = Y - Y.mean(axis=0)
    return Y


def silhouette(Y, labels) -> float:
    """Mean silhouette of the points ``Y`` clustered by ``labels`` (Euclidean)."""
    D = np.sqrt(_sqdist(np.asarray(Y, float)))
    labels = np.asarray(labels)
    classes = np.unique(labels)
    s = np.zeros(len(labels))
    for i in range(len(labels)):
        same = labels == labels[i]
        if same.sum() < 2:
            continue
        a = D[i, same].sum() / (same.sum() - 1)
        b = min(D[i, labels == c].mean() for c in classes if c != labels[i])
        s[i] = (b - a) / max(a, b)
    return float(s.mean())


def knn_accuracy(Y, labels, k: int = 5) -> float:
    """Leave-one-out accuracy of a k-nearest-neighbour majority vote (ties: the nearest's class)."""
    D = _sqdist(np.asarray(Y, float))
    np.fill_diagonal(D, np.inf)
    labels = np.asarray(labels, int)
    nn = np.argsort(D, axis=1)[:, :k]
    votes = labels[nn]
    pred = np.array([np.bincount(v, minlength=10).argmax() if np.bincount(v).max() > 1 else v[0] for v in votes])
    return float(np.mean(pred == labels))


def layer_activities(state: dict, params: ModelParams, images) -> list:
    """[input pixels, hidden layer 1 rates, ...] (rates in 1/ms) by the rate read-out of the module doc."""
    phi_max = float(params.phi_max * ms)
    k_b = float(params.g_b / (params.g_l + params.g_b + params.g_a))
    x = np.asarray(images, float)
    x = x / 255.0 if x.max() > 1 else x
    out = [x]
    s = phi_max * x
    for W, b in zip(state["W"][:-1], state["b"][:-1]):
        s = phi_max / (1.0 + np.exp(-k_b * (s @ np.asarray(W).T + np.asarray(b))))
        out.append(s)
    return out


def recorded_activities(state: dict, params: ModelParams, images, seed: int, chunk_steps: int = 100_000,
                        log=print) -> dict:
    """Each hidden layer's activity per test image from a compiled test run (no learning).

    Every image is shown for ``params.test_duration`` (after ``params.settle``, the window), as in
    :func:`brian_segdend.training.train.classify`; the window means at the end of the forward
    phase are recorded with ``Recording().events(...)``. Returns ``sbar`` (list per hidden layer of
    (n_images, n_units) arrays in 1/ms: window means of the filtered spike trains) and ``Vbar_f``
    (the same for the somatic voltage), and ``wall_s``.
    """
    import time as _time  # noqa: PLC0415 (only for this run's wall time)

    from brian2 import Hz  # noqa: PLC0415 (only here)

    from ..model.network import SegDendNetwork  # noqa: PLC0415 (compiles: only when this read-out is asked for)
    from ..model.recording import Recording  # noqa: PLC0415 (only here)
    from ..model.schedule import pack_chunk  # noqa: PLC0415 (only here)
    from ..training.train import seed_for  # noqa: PLC0415 (only here)
    t0 = _time.perf_counter()
    n_hidden = len(params.hidden)
    rec = Recording()
    for k in range(n_hidden):
        rec.events(f"hidden{k}_soma", "end_f", ["sbar", "Vbar_f"])
    net = SegDendNetwork(params, chunk_steps=chunk_steps, recording=rec)
    net.build(log=log)
    images = np.asarray(images, float)
    n = len(images)
    steps = int(round(float(params.test_duration / params.dt)))
    settle = int(round(float(params.settle / params.dt)))
    sbar = [np.full((n, h), np.nan) for h in params.hidden]
    vbar = [np.full((n, h), np.nan) for h in params.hidden]
    done, chunk = 0, 0
    while done < n:
        sch = pack_chunk(np.full(n - done, steps), net.chunk_steps, settle, train=False)
        _, res = net.run_chunk(state, images[done:done + sch.n_examples], np.zeros(sch.n_examples), sch,
                               seed=seed_for(seed, "fig6c", chunk))
        row_of = {int(st): r for r, st in enumerate(sch.end_f_steps)}
        for k in range(n_hidden):
            ev = res.recorded.events[f"hidden{k}_soma.end_f"]
            rows = np.array([row_of[int(round(float(t / params.dt)))] for t in ev.t], dtype=np.int64) + done
            sbar[k][rows, ev.i] = np.asarray(ev.sbar / Hz) / 1000.0      # 1/ms
            vbar[k][rows, ev.i] = np.asarray(ev.Vbar_f)
        done += sch.n_examples
        chunk += 1
        log(f"recorded test activity: {done}/{n} images")
    net.release()
    if any(np.isnan(a).any() for a in sbar):
        raise RuntimeError("recorded test activity: an image or unit without its forward-phase record")
    return {"sbar": sbar, "Vbar_f": vbar, "wall_s": _time.perf_counter() - t0}


def readout_agreement(recorded: np.ndarray, readout: np.ndarray) -> dict:
    """How a recorded activity matrix (images x units) compares with the rate read-out's."""
    a, b = np.asarray(recorded, float).ravel(), np.asarray(readout, float).ravel()
    return {"pearson_r": float(np.corrcoef(a, b)[0, 1]), "mean_recorded": float(a.mean()),
            "mean_readout": float(b.mean()),
            "per_unit_mean_r": float(np.corrcoef(np.asarray(recorded).mean(axis=0), np.asarray(readout).mean(axis=0))[0, 1]),
            "mean_abs_difference": float(np.mean(np.abs(a - b)))}


def check_claims(scores: list[dict]) -> list[dict]:
    """Separation increases with depth (silhouette and kNN accuracy, every layer above the one below)."""
    names = [s["layer"] for s in scores]
    claims = []
    for key, text in (("silhouette", "silhouette in the t-SNE embedding increases with depth"),
                      ("knn_accuracy", "5-NN accuracy in the t-SNE embedding increases with depth")):
        v = [s[key] for s in scores]
        ok = all(np.isfinite(v)) and all(b > a for a, b in zip(v, v[1:]))
        claims.append(S.claim(text, "hidden layers separate the digits better, more so with depth",
                              "PASS" if ok else "FAIL", ", ".join(f"{n} {x:.3f}" for n, x in zip(names, v)),
                              value=" < ".join(f"{x:.2f}" for x in v)))
    return claims


def plot(embeddings, labels, scores, path, note=""):
    fig, axes = plt.subplots(1, len(embeddings), figsize=(4 * len(embeddings), 4.2), constrained_layout=True)
    for ax, Y, s in zip(np.atleast_1d(axes), embeddings, scores):
        sc = ax.scatter(Y[:, 0], Y[:, 1], c=labels, cmap="tab10", s=4, vmin=-0.5, vmax=9.5)
        ax.set_title(f"{s['layer']}: silhouette {s['silhouette']:.2f}, 5-NN {100 * s['knn_accuracy']:.0f}%", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.colorbar(sc, ax=axes, ticks=range(10), label="digit")
    fig.suptitle("Figure 6C: t-SNE of the test set's activity" + note)
    fig.savefig(path, dpi=130)
    plt.close(fig)


def parser():
    ap = OneLineParser(prog="python -m brian_segdend paper fig6c",
                       description="Figure 6C: t-SNE of the test set's activity at the input and hidden layers of a "
                                   "trained network, with a cluster-separation score per layer.")
    ap.add_argument("--weights", required=True, help="weights.npz of a trained run (the paper: 784-500-100-10)")
    ap.add_argument("--out", default="results/fig6c", help="output folder (default results/fig6c)")
    ap.add_argument("--test-size", type=positive_int, help="test images embedded (default 2000; --quick 300)")
    ap.add_argument("--iterations", type=positive_int, help="t-SNE iterations (default 750; --quick 300)")
    ap.add_argument("--perplexity", type=float, default=30.0, help="t-SNE perplexity (default 30)")
    ap.add_argument("--seed", type=int, default=1, help="seed of the test subset and the embedding (default 1)")
    ap.add_argument("--activity", choices=["spiking", "rate"], default="spiking",
                    help="spiking (default): window means of the filtered spike trains recorded in a compiled test "
                         "run; rate: the rate read-out of the weights (no simulation)")
    ap.add_argument("--quick", action="store_true", help="300 test images, 300 iterations")
    return ap


def main(argv=None) -> int:
    """``python -m brian_segdend paper fig6c --weights W [options]``."""
    argv = list(argv or [])
    args = parser().parse_args(argv)
    t0 = time.perf_counter()
    n = args.test_size or (300 if args.quick else 2000)
    iters = args.iterations or (300 if args.quick else 750)
    state, meta = load_weights(args.weights)
    hidden = tuple(int(np.asarray(W).shape[0]) for W in state["W"][:-1])
    if not hidden:
        raise ParameterError(f"--weights {args.weights}: a network without hidden layers has nothing to embed")
    cfg = (meta or {}).get("config") or {}
    model = dict(cfg.get("model") or {})
    params = TrainConfig(hidden=hidden, model=model).model_params() if model else ModelParams(hidden=hidden)
    data = load_mnist()
    x, y, _ = subset(data.test_images, data.test_labels, n, seed=args.seed)
    acts = layer_activities(state, params, x)
    agreement, record_wall = None, None
    if args.activity == "spiking":
        got = recorded_activities(state, params, x, args.seed)
        record_wall = got["wall_s"]
        agreement = [{"layer": f"hidden layer {k + 1}", **readout_agreement(got["sbar"][k], acts[k + 1])}
                     for k in range(len(hidden))]
        acts = [acts[0], *got["sbar"]]
    names = ["input"] + [f"hidden layer {k + 1}" for k in range(len(hidden))]
    emb, scores = [], []
    for name, A in zip(names, acts):
        Y = tsne(A, perplexity=args.perplexity, iterations=iters, seed=args.seed)
        emb.append(Y)
        scores.append({"layer": name, "silhouette": silhouette(Y, y), "knn_accuracy": knn_accuracy(Y, y)})
    claims = check_claims(scores)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    network = "-".join(map(str, params.layer_sizes))
    doc = {"figure": "6C", "title": "t-SNE of the test set's activity per layer",
           "config": {"weights": str(args.weights), "network": "-".join(map(str, params.layer_sizes)),
                      "test_size": n, "iterations": iters, "perplexity": args.perplexity, "seed": args.seed,
                      "quick": bool(args.quick), "activity": args.activity,
                      "read_out": ("spiking: window means of the filtered spike trains (sbar, 1/ms) recorded in a "
                                   "compiled test run" if args.activity == "spiking"
                                   else "rate (steady state, g_a feedback ignored)"),
                      "weights_config": cfg},
           "scores": scores, "claims": claims, "networks": [network],
           "recorded_vs_rate_readout": agreement, "record_wall_s": record_wall,
           "paper_scale": network == "784-500-100-10" and n >= 2000 and not args.quick,
           "provenance": S.provenance(argv, "python -m brian_segdend paper fig6c"), "wall_s": time.perf_counter() - t0}
    S.write_json(out / "fig6c.json", doc)
    plot(emb, y, scores, out / "fig6c.png", f" ({doc['config']['network']}, {n} test images, {args.activity} read-out)")
    print(f"\nFigure 6C ({doc['config']['network']}, {n} test images): " + "; ".join(
        f"{s['layer']}: silhouette {s['silhouette']:.3f}, 5-NN {100 * s['knn_accuracy']:.1f}%" for s in scores))
    for a in agreement or []:
        print(f"{a['layer']}: recorded rates vs rate read-out r = {a['pearson_r']:.3f} (per-unit means "
              f"r = {a['per_unit_mean_r']:.3f}; mean {a['mean_recorded']:.4f} vs {a['mean_readout']:.4f} /ms)")
    S.print_claims(claims)
    print(f"written: {out / 'fig6c.json'}, {out / 'fig6c.png'}")
    return 0
