#!/usr/bin/env bash
# Start or resume the Figure 6B long runs (60 epochs of all 60,000 images, 10,000 test images after
# every epoch) in the background, from a separate worktree so that editing this checkout never
# touches a running job. A run whose checkpoint was saved into long_runs/ by an earlier session
# (the machine that ran it is gone) continues from there.
#
#   bash scripts/long_runs.sh start [NAME ...]   # default: 784-10 784-500-10 784-500-100-10
#   bash scripts/long_runs.sh status
#   bash scripts/long_runs.sh save               # copy checkpoints + logs into long_runs/ (to commit)
#
# Runs live in $RUNS (default /work/runs/fig6/<name>/seed<seed>), the worktree in $WORKTREE
# (default /work/longrun), compiled builds in $RUNS/../builds. Seed: $SEED (default 1).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO=$(pwd)
RUNS=${RUNS:-/work/runs/fig6}
WORKTREE=${WORKTREE:-/work/longrun}
SEED=${SEED:-1}
declare -A HIDDEN=([784-10]=0 [784-500-10]=500 [784-500-100-10]=500,100)
ALL=(784-10 784-500-10 784-500-100-10)

cmd=${1:-status}; shift || true
names=("$@"); [ ${#names[@]} -gt 0 ] || names=("${ALL[@]}")

case $cmd in
start)
    bash scripts/setup.sh >/dev/null
    if [ ! -d "$WORKTREE" ]; then
        git worktree add -f --detach "$WORKTREE" HEAD >/dev/null
        ln -s "$REPO/.venv" "$WORKTREE/.venv"
    fi
    for name in "${names[@]}"; do
        out=$RUNS/$name/seed$SEED
        mkdir -p "$out"
        saved=long_runs/$name/seed$SEED
        if [ ! -e "$out/checkpoint.npz" ] && [ ! -e "$out/results.json" ] && [ -e "$saved/checkpoint.npz" ]; then
            cp "$saved/checkpoint.npz" "$out/checkpoint.npz"
            [ -e "$saved/train.log" ] && cp "$saved/train.log" "$RUNS/$name/seed$SEED.log"
        fi
        resume=""
        { [ -e "$out/checkpoint.npz" ] || [ -e "$out/checkpoint.prev.npz" ] || [ -e "$out/results.json" ]; } && resume=--resume
        log=$RUNS/$name/seed$SEED.log
        echo "=== $(date -u +%FT%TZ) start $name seed$SEED $resume (commit $(git -C "$WORKTREE" rev-parse --short HEAD))" >> "$log"
        # every descriptor redirected on the whole background command: nothing keeps the caller's
        # stdout (a pipe would otherwise stay open until the run ends)
        ( cd "$WORKTREE" && BRIAN_SEGDEND_BUILD_DIR=$RUNS/../builds exec setsid nice -n 10 .venv/bin/python \
            -m brian_segdend train --hidden "${HIDDEN[$name]}" --train-size 60000 --test-size 10000 --epochs 60 \
            --seed "$SEED" --out "$out" $resume ) >> "$log" 2>&1 < /dev/null &
        disown
        echo "started $name (log $log)"
    done ;;
status)
    for name in "${names[@]}"; do
        log=$RUNS/$name/seed$SEED.log
        [ -e "$log" ] || { echo "$name: no log"; continue; }
        echo "$name: $(grep -c 'test error 0' "$log" | tr -d ' ') test lines; last: $(grep 'epoch [0-9]*: test error' "$log" | tail -n 1)"
    done ;;
save)
    for name in "${names[@]}"; do
        out=$RUNS/$name/seed$SEED
        [ -d "$out" ] || continue
        saved=long_runs/$name/seed$SEED
        mkdir -p "$saved"
        for f in checkpoint.npz results.json learning_curve.json; do
            [ -e "$out/$f" ] && cp "$out/$f" "$saved/$f"
        done
        [ -e "$RUNS/$name/seed$SEED.log" ] && cp "$RUNS/$name/seed$SEED.log" "$saved/train.log"
        echo "saved $name into $saved"
    done ;;
*) echo "usage: $0 start|status|save [NAME ...]" >&2; exit 2 ;;
esac
