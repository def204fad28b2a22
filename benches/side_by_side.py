"""dlc's figures in the peers' JSON-lines schema, and the ratio tables.

  python3 side_by_side.py convert --workload W --batch B --threads T BENCH.json METRICS.jsonl
      prints dlc's records (setup, train_epoch, test_acc, latency_b1, peak_rss) in the schema of
      ../shared/bench (so its report.py shows dlc beside the peers);
  python3 side_by_side.py report RESULTS.jsonl
      prints, per workload and thread count, dlc against the fastest peer of the same run file,
      with issue 4's targets.

`train_epoch` epoch 1 is `dlc bench`'s train_samples_per_s over one epoch's worth of steps
through the runtime (after warm-up, as the peers time epoch 1 after 10 warm-up steps); later
epochs and the test accuracies come from `dlc run --metrics-out` of the same model.
"""
import argparse
import json
import os
import sys
import time
from collections import defaultdict

TARGETS = {  # issue 4: dlc / fastest peer
    ("cnn", 32): 3.0, ("mlp", 32): 1.25, ("mlp", 256): 1.2, ("lstm", 32): 1.5,
}


def convert(args):
    bench = json.load(open(args.bench))
    epochs = []
    for line in open(args.metrics):
        line = line.strip()
        if line.startswith("{"):
            r = json.loads(line)
            if "epoch" in r:
                epochs.append(r)
    base = {"run": f"dlc-{os.getpid()}@{int(time.time())}", "fw": "dlc", "variant": "jit",
            "workload": args.workload, "batch": args.batch, "threads": args.threads,
            "version": bench.get("version", "dlc")}
    recs = [dict(base, metric="setup", train_samples=60000, test_samples=10000,
                 rss_after_import_mb=None)]
    recs.append(dict(base, metric="train_epoch", epoch=1,
                     samples_per_s=bench["train_samples_per_s"],
                     first_step_s=bench["compile_ms"] / 1000.0,
                     eval_samples_per_s=bench.get("eval_samples_per_s"), foreign_cpu=None))
    for e in epochs[1:]:
        if e.get("train_seconds"):
            recs.append(dict(base, metric="train_epoch", epoch=e["epoch"],
                             samples_per_s=e["samples"] / e["train_seconds"], foreign_cpu=None))
    for e in epochs:
        if "val_accuracy" in e:
            recs.append(dict(base, metric="test_acc", epoch=e["epoch"], acc=e["val_accuracy"]))
    recs.append(dict(base, metric="latency_b1", median_us=bench["predict_latency_us"],
                     p90_us=bench.get("predict_latency_p90_us"), first_call_s=None))
    recs.append(dict(base, metric="peak_rss", peak_rss_mb=bench["peak_rss_mb"]))
    for r in recs:
        print(json.dumps(r))


def load(path):
    """The last complete run per configuration (fw, variant, workload, batch, threads)."""
    runs = defaultdict(list)
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            r = json.loads(line)
            runs[r["run"]].append(r)
    last = {}
    for recs in runs.values():
        if recs[0]["fw"] == "machine" or not any(r["metric"] == "peak_rss" for r in recs):
            continue
        r0 = recs[0]
        last[(r0["fw"], r0.get("variant"), r0["workload"], r0["batch"], r0["threads"])] = recs
    return last


def pick(recs, metric, key, epoch=None):
    for r in recs:
        if r["metric"] == metric and (epoch is None or r.get("epoch") == epoch):
            return r.get(key)
    return None


def report(args):
    runs = load(args.results)
    configs = sorted({(k[2], k[3], k[4]) for k in runs})
    rows = []
    for workload, batch, threads in configs:
        mine = runs.get(("dlc", "jit", workload, batch, threads))
        peers = {f"{k[0]} {k[1]}": v for k, v in runs.items()
                 if k[0] != "dlc" and (k[2], k[3], k[4]) == (workload, batch, threads)}
        if not mine or not peers:
            continue
        rate = {n: pick(v, "train_epoch", "samples_per_s", 1) or 0 for n, v in peers.items()}
        lat = {n: pick(v, "latency_b1", "median_us") for n, v in peers.items()}
        rss = {n: pick(v, "peak_rss", "peak_rss_mb") for n, v in peers.items()}
        acc = {n: pick(v, "test_acc", "acc", 3 if workload == "cnn" else 1) for n, v in peers.items()}
        fast = max(rate, key=rate.get)
        quick = min((n for n in lat if lat[n]), key=lat.get)
        small = min((n for n in rss if rss[n]), key=rss.get)
        d_rate = pick(mine, "train_epoch", "samples_per_s", 1)
        d_lat = pick(mine, "latency_b1", "median_us")
        d_rss = pick(mine, "peak_rss", "peak_rss_mb")
        d_acc = pick(mine, "test_acc", "acc", 3 if workload == "cnn" else 1)
        d_comp = pick(mine, "train_epoch", "first_step_s", 1)
        target = TARGETS.get((workload, batch))
        ratio = d_rate / rate[fast]
        rows.append([
            f"{workload} b{batch}", str(threads),
            f"{d_rate:,.0f}", f"{fast} {rate[fast]:,.0f}",
            f"**{ratio:.2f}x**" + (f" (target {target}x: {'met' if ratio >= target else 'missed'})" if target else ""),
            f"{d_lat:,.0f} / {quick} {lat[quick]:,.0f} = {d_lat / lat[quick]:.2f}",
            f"{d_rss:,.0f} / {small} {rss[small]:,.0f} = {d_rss / rss[small]:.2f}",
            f"{d_comp * 1000:.0f} ms" if d_comp is not None else "-",
            f"{d_acc:.4f}" if d_acc is not None else "-",
            ", ".join(f"{n} {a:.4f}" for n, a in acc.items() if a is not None),
        ])
    hdr = ["workload", "thr", "dlc samples/s", "fastest peer", "ratio", "b1 predict us (dlc / best peer)",
           "peak RSS MB (dlc / smallest peer)", "dlc compile", "dlc test acc", "peers' test acc"]
    print("| " + " | ".join(hdr) + " |")
    print("|" + "---|" * len(hdr))
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print("\nTest accuracy after 3 epochs for the CNN, 1 epoch otherwise. Targets (issue 4): "
          "train ratio as shown, b1 predict <= 0.5, peak RSS <= 0.2, CNN compile < 100 ms.")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert")
    c.add_argument("--workload", required=True)
    c.add_argument("--batch", type=int, required=True)
    c.add_argument("--threads", type=int, required=True)
    c.add_argument("bench")
    c.add_argument("metrics")
    r = sub.add_parser("report")
    r.add_argument("results")
    args = p.parse_args()
    convert(args) if args.cmd == "convert" else report(args)


if __name__ == "__main__":
    sys.exit(main())
