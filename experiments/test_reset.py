"""Does resetting the network between test images change the test error? (issue 14)

Tests the weights of a finished training run on the test set twice per test seed: as trained
(no reset between test images, the default) and with ``test_reset`` (the authors' code).

    python experiments/test_reset.py runs/fig6/784-500-10/seed1 --seeds 101,102
"""

import argparse
import json
from dataclasses import replace
from pathlib import Path

from brian_segdend.model.network import SegDendNetwork
from brian_segdend.training.data import load_mnist
from brian_segdend.training.train import TrainConfig, classify, load_checkpoint

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("run", help="a training run's folder (results.json and checkpoint.npz)")
ap.add_argument("--seeds", default="101,102", help="test seeds (default 101,102)")
ap.add_argument("--test-size", type=int, default=10000)
args = ap.parse_args()

run = Path(args.run)
state, _ = load_checkpoint(run / "checkpoint.npz")
config = json.loads((run / "results.json").read_text())["config"]
config.pop("effective_model", None)
cfg = TrainConfig.from_dict(config, source=str(run / "results.json"))
mnist = load_mnist(cfg.data_source)
images, labels = mnist.test_images[:args.test_size], mnist.test_labels[:args.test_size]

errors = {}
for reset in (False, True):
    net = SegDendNetwork(replace(cfg.model_params(), test_reset=reset), chunk_steps=cfg.chunk_steps)
    net.build()
    for seed in (int(s) for s in args.seeds.split(",")):
        err, _ = classify(net, state, images, labels, seed=seed, tag="reset-check")
        errors[f"reset={reset}, seed={seed}"] = err
        print(f"test_reset={reset!s:5}  test seed {seed}: {100 * err:.2f}%", flush=True)
    net.release()
print(json.dumps(errors, indent=1))
