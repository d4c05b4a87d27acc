"""Per-layer diagnostics of trained networks: saturation, the learning signal's share of variance, angle to backprop.

For each run folder (or checkpoint.npz / weights.npz) the saved network and the run's initial
weights are diagnosed (:mod:`brian_segdend.studies.depth_diagnostics`: the weights frozen, each of
``--images`` training images presented twice). Issue 14 asks for these numbers where a Figure 6
target is missed; docs/RESULTS.md records them.

    python experiments/depth_diagnostics.py runs/fig6/784-500-10/seed1 runs/fig6/784-500-100-10/seed1 \
        --images 500 --out depth_diagnostics.json

``--anneal 0.25`` instead continues each saved network for ``--anneal-epochs`` (default 2) epochs
with its learning rates x 0.25 and tests after each: does a smaller step lower the error floor?
"""

import argparse
import json

from brian_segdend.studies.depth_diagnostics import continue_with_smaller_steps, diagnose

ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
ap.add_argument("runs", nargs="+", help="run folders, checkpoint.npz or weights.npz files")
ap.add_argument("--images", type=int, default=500, help="training images, each presented twice (default 500)")
ap.add_argument("--seed", type=int, default=1, help="picks the images and the noise (default 1)")
ap.add_argument("--no-initial", action="store_true", help="skip the run's initial weights")
ap.add_argument("--anneal", type=float, metavar="SCALE", help="continue training with the rates x SCALE instead")
ap.add_argument("--anneal-epochs", type=int, default=2, help="epochs of --anneal (default 2)")
ap.add_argument("--out", help="JSON file for the numbers")
args = ap.parse_args()

if args.anneal is not None:
    results = [continue_with_smaller_steps(run, args.anneal, args.anneal_epochs) for run in args.runs]
    if args.out:
        with open(args.out, "w") as f:
            json.dump(results, f, indent=1)
    raise SystemExit(0)

results = []
for run in args.runs:
    todo = [(run, False)] + ([] if args.no_initial else [(run, True)])
    for path, initial in todo:
        r = diagnose(path, n_images=args.images, seed=args.seed, initial=initial, log=None)
        results.append(r)
        print(f"{r['network']} {'initial weights' if initial else 'epoch ' + str(r['epoch'])} ({r['n_images']} images x 2, "
              f"{r['wall_s']:.0f} s)")
        for k, h in enumerate(r["hidden"]):
            print(f"  hidden {k}: saturated {100 * h['saturated']:.1f}%, mean sigma' {h['mean_sigma_prime']:.4f}, "
                  f"V {h['V_mean']:.2f} +- {h['V_sd']:.2f}; signal share of alpha^t - alpha^f "
                  f"{h['signal_share_plateau_difference']:.2f} (of E {h['signal_share_E']:.2f}); angle to backprop "
                  f"mean {h['angle_mean_deg']:.1f}, median {h['angle_median_deg']:.1f}, batch {h['angle_batch_deg']:.1f} deg")
        o = r["output"]
        print(f"  output: saturated {100 * o['saturated']:.1f}%, mean sigma' {o['mean_sigma_prime']:.4f}, "
              f"signal share of E {o['signal_share_E']:.2f}")
if args.out:
    with open(args.out, "w") as f:
        json.dump(results, f, indent=1)
