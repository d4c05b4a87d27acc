"""How saturated are a trained network's units? A rate-model (mean-field) read-out of saved weights.

For each test image the input rates phi_max * pixel drive each layer's steady somatic voltage,
V = g_b / (g_l + g_b) * (W s + b) (g_d for the output layer, g_a = 0), and the layer's rates
phi_max * sigma(V) drive the next layer. Reported per layer: mean and sd of V, the fraction of
(unit, image) pairs with sigma'(V) < 0.01 (where the learning rule's factor sigma' all but stops
learning), and the rate model's test error (close to the spiking network's when the read-out is
faithful: 5.39% vs 5.64% for the 60-epoch 784-500-10 run of docs/RESULTS.md).

    python experiments/saturation.py runs/fig6/784-500-10/seed1/weights.npz \
        runs/fig6/784-500-100-10/seed1/checkpoint.npz --out saturation.json
"""

import argparse
import json

import numpy as np
from brian2 import ms

from brian_segdend.model.params import ModelParams
from brian_segdend.training.data import load_mnist
from brian_segdend.training.train import load_checkpoint

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("files", nargs="+", help="weights.npz or checkpoint.npz files")
ap.add_argument("--test-size", type=int, default=10000)
ap.add_argument("--out", help="JSON file for the numbers")
args = ap.parse_args()

p = ModelParams()
phi_max = float(p.phi_max * ms)                       # spikes per ms
g_l, g_b, g_d = (float(g * ms) for g in (p.g_l, p.g_b, p.g_d))
mnist = load_mnist()
X = np.asarray(mnist.test_images[:args.test_size], dtype=np.float64)
labels = np.asarray(mnist.test_labels[:args.test_size])


def sigma(v):
    return 1.0 / (1.0 + np.exp(-v))


results = {}
for name in args.files:
    if name.endswith("checkpoint.npz"):
        state, _ = load_checkpoint(name)
        W, b = state["W"], state["b"]
    else:
        with np.load(name) as z:
            n = len([k for k in z.files if k.startswith("W")])
            W, b = [z[f"W{k}"] for k in range(n)], [z[f"b{k}"] for k in range(n)]
    s, layers = phi_max * X, []
    for k, (w, bias) in enumerate(zip(W, b)):
        g = g_d if k == len(W) - 1 else g_b
        V = g / (g_l + g) * (s @ np.asarray(w).T + bias)
        sg = sigma(V)
        layers.append({"layer": k, "V_mean": float(V.mean()), "V_sd": float(V.std()),
                       "saturated_fraction": float((sg * (1 - sg) < 0.01).mean()),
                       "weight_norm": float(np.linalg.norm(w))})
        s = phi_max * sg
    results[name] = {"layers": layers, "rate_model_test_error": float((s.argmax(1) != labels).mean())}
    print(name)
    for L in layers:
        print(f"  layer {L['layer']}: V {L['V_mean']:+.2f} +- {L['V_sd']:.2f}, "
              f"sigma' < 0.01 for {100 * L['saturated_fraction']:.1f}% of unit-image pairs")
    print(f"  rate-model test error {100 * results[name]['rate_model_test_error']:.2f}%")
if args.out:
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
