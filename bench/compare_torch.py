#!/usr/bin/python3
"""bench/compare_torch.py: our reference-model throughput against PyTorch's, in one run.

For each model and thread count it runs, interleaved and repeated (--repeat), our
bench_models and the PyTorch reference child of ../shared/reference/torch/bench.py
(variant "malloc" = the "tuned" column of shared/reference/README.md, with the environment
bench.py gives its children), and reports the ratio of training and inference examples/s
(medians of the repeats). Prints one JSON object on stdout; progress on stderr.

  bench/compare_torch.py [--bin build/bench/bench_models] [--models ...] [--threads 1,2]
                         [--steps 20] [--warmup 5] [--repeat 2]

Exit 0 with {"skipped": "..."} when torch or the reference is missing.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "reference", "torch", "bench.py"))


def torch_child(model, threads, steps, warmup):
    env = dict(os.environ)
    env.update(OMP_NUM_THREADS=str(threads), OPENBLAS_NUM_THREADS=str(threads),
               MALLOC_MMAP_THRESHOLD_=str(1 << 30), MALLOC_TRIM_THRESHOLD_=str(1 << 32),
               MALLOC_TOP_PAD_=str(1 << 29))
    env.pop("OMP_WAIT_POLICY", None)
    cmd = ["/usr/bin/python3", REF, "--child", "--models", model, "--threads", str(threads),
           "--variant", "malloc", "--steps", str(steps), "--warmup", str(warmup)]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise RuntimeError(f"torch child failed: {p.stderr[-500:]}")


def ours(binary, model, threads, steps, warmup):
    cmd = [binary, "--models", model, "--threads", str(threads), "--steps", str(steps),
           "--warmup", str(warmup)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"{binary} failed: {p.stderr[-500:]}")
    return json.loads(p.stdout)["results"][0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", default=os.path.join("build", "bench", "bench_models"))
    ap.add_argument("--models", default="separator,classifier,transcriber")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()
    try:
        import torch  # noqa: F401
    except ImportError:
        print(json.dumps({"skipped": "python3-torch is not installed"}))
        return 0
    if not os.path.exists(REF):
        print(json.dumps({"skipped": f"{REF} not found"}))
        return 0
    rows = []
    for m in a.models.split(","):
        for t in (int(x) for x in a.threads.split(",")):
            o_tr, o_in, p_tr, p_in = [], [], [], []
            for r in range(a.repeat):
                print(f"compare_torch: {m} threads={t} repeat {r + 1}/{a.repeat}", file=sys.stderr)
                o = ours(a.bin, m, t, a.steps, a.warmup)
                p = torch_child(m, t, a.steps, a.warmup)
                o_tr.append(o["train"]["ex_per_s"]); o_in.append(o["infer"]["ex_per_s"])
                p_tr.append(p["train"]["ex_per_s"]); p_in.append(p["infer"]["ex_per_s"])
            row = {"model": m, "threads": t,
                   "ours_train_ex_per_s": statistics.median(o_tr),
                   "torch_train_ex_per_s": statistics.median(p_tr),
                   "ours_infer_ex_per_s": statistics.median(o_in),
                   "torch_infer_ex_per_s": statistics.median(p_in)}
            row["train_ratio"] = row["ours_train_ex_per_s"] / row["torch_train_ex_per_s"]
            row["infer_ratio"] = row["ours_infer_ex_per_s"] / row["torch_infer_ex_per_s"]
            row["train_target"] = 1.0 if t == 1 else 1.3
            row["train_target_met"] = row["train_ratio"] >= row["train_target"]
            rows.append(row)
            print(f"compare_torch: {m} thr={t} train ours {row['ours_train_ex_per_s']:.1f} vs torch "
                  f"{row['torch_train_ex_per_s']:.1f} ex/s = {row['train_ratio']:.2f}x; infer "
                  f"{row['infer_ratio']:.2f}x", file=sys.stderr)
    print(json.dumps({"torch_variant": "malloc (tuned allocator)", "steps": a.steps,
                      "repeat": a.repeat, "results": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
