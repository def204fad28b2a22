#!/usr/bin/env bash
# dlc and the peer frameworks (../shared/bench) on the same workloads, data,
# batch sizes and thread counts, in one sitting; prints the tables with the
# ratios dlc / fastest peer (also written to $LOG_DIR/side_by_side.md).
#
#   bash benches/side_by_side.sh                          # dlc + the fastest peers, 1 and 2 threads
#   THREADS=1 WORKLOADS="cnn:32" bash benches/side_by_side.sh
#   PEERS=0 bash benches/side_by_side.sh                  # dlc only, against the last peer figures in $OUT
#
# Needs Fashion-MNIST in /usr/share/datasets/fashion-mnist (Debian's
# dataset-fashion-mnist; run_all.sh installs it) and, for the peers, their
# venv (run_all.sh creates it: ~7 GB, once). Variables: THREADS, WORKLOADS
# (workload:batch), FWS (peers, run_all.sh syntax; default: the fastest peer of
# each workload in ../shared/bench/RESULTS.md), PEERS (0 = skip the peers),
# LOG_DIR, OUT (one JSON-lines file for dlc and the peers, peers' schema).
set -eu
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BENCH="${BENCH:-$ROOT/../shared/bench}"
THREADS="${THREADS:-1 2}"
WORKLOADS="${WORKLOADS:-cnn:32 mlp:32 mlp:256 lstm:32}"
FWS="${FWS:-keras:graph torch:eager jax:jit}"
PEERS="${PEERS:-1}"
LOG_DIR="${LOG_DIR:-/tmp/side-by-side}"
OUT="${OUT:-$LOG_DIR/results.jsonl}"
mkdir -p "$LOG_DIR"

cargo build --release --quiet --manifest-path "$ROOT/Cargo.toml"
DLC="$ROOT/target/release/dlc"

for t in $THREADS; do
  cpus="0-$((t - 1))"
  for wb in $WORKLOADS; do
    w=${wb%%:*}; b=${wb#*:}
    model="$ROOT/benches/fmnist/$w.dlm"
    tag="dlc-$w-b$b-t$t"
    # one epoch of training steps (60,000 / batch), timed through the real runtime path
    taskset -c "$cpus" "$DLC" bench "$model" --batch "$b" --threads "$t" --steps $((60000 / b)) \
      > "$LOG_DIR/$tag.bench.json"
    # the accuracy after the peers' number of epochs, on the test set
    taskset -c "$cpus" "$DLC" run "$model" --batch "$b" --threads "$t" \
      --metrics-out "$LOG_DIR/$tag.metrics.jsonl" > "$LOG_DIR/$tag.run.log" 2>&1
    python3 "$ROOT/benches/side_by_side.py" convert --workload "$w" --batch "$b" --threads "$t" \
      "$LOG_DIR/$tag.bench.json" "$LOG_DIR/$tag.metrics.jsonl" >> "$OUT"
    echo "$(date +%T) $tag done"
  done
done

if [ "$PEERS" != 0 ]; then
  FWS="$FWS" THREADS="$THREADS" WORKLOADS="$WORKLOADS" LOG_DIR="$LOG_DIR" OUT="$OUT" \
    QUIET_MAX_WAIT="${QUIET_MAX_WAIT:-120}" bash "$BENCH/run_all.sh" > "$LOG_DIR/peers.log" 2>&1 || true
fi

python3 "$ROOT/benches/side_by_side.py" report "$OUT" | tee "$LOG_DIR/side_by_side.md"
