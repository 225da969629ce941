#!/usr/bin/python3
"""bench/compare_torch.py: our reference-model throughput against PyTorch's, in one run.

For each model and thread count it runs, interleaved and repeated (--repeat), our
bench_models and the PyTorch reference child of ../shared/reference/torch/bench.py
(variant "malloc" = the "tuned" column of shared/reference/README.md, with the environment
bench.py gives its children), and reports the ratio of training and inference examples/s
(medians of the repeats). Prints one JSON object on stdout; progress on stderr.
Our runs get no OMP_WAIT_POLICY (libgomp's default) unless --passive-ab: then at 2+
threads each repeat also runs ours with OMP_WAIT_POLICY=passive, interleaved, reported as
"ours_passive_*" (the ratios and targets stay on the default runs).

  bench/compare_torch.py [--bin build/bench/bench_models] [--models ...] [--threads 1,2]
                         [--steps 20] [--warmup 5] [--repeat 2] [--passive-ab]

Exit 0 with {"skipped": "..."} when torch or the reference is missing.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REF = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "reference", "torch", "bench.py"))


def others_cpus(fn):
    """run fn(); also return the CPUs other tenants of this shared kernel kept busy meanwhile
    (/proc/stat busy time minus our children's CPU time, per wall second: 0 = quiet host,
    1 = one of the two cores taken)"""
    def busy():
        with open("/proc/stat") as f:
            v = [int(x) for x in f.readline().split()[1:9]]
        t = os.times()
        return (sum(v) - v[3] - v[4] - v[7]) / os.sysconf("SC_CLK_TCK"), \
            t.children_user + t.children_system + t.user + t.system, time.perf_counter()
    a = busy()
    r = fn()
    b = busy()
    wall = b[2] - a[2]
    return r, max(0.0, ((b[0] - a[0]) - (b[1] - a[1])) / wall) if wall > 0 else 0.0


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


def ours(binary, model, threads, steps, warmup, wait_policy=None):
    cmd = [binary, "--models", model, "--threads", str(threads), "--steps", str(steps),
           "--warmup", str(warmup)]
    env = dict(os.environ)
    env.pop("OMP_WAIT_POLICY", None)
    if wait_policy:
        env["OMP_WAIT_POLICY"] = wait_policy
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
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
    ap.add_argument("--passive-ab", action="store_true",
                    help="at 2+ threads also time ours with OMP_WAIT_POLICY=passive")
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
            o_tr, o_in, p_tr, p_in, q_tr, q_in = [], [], [], [], [], []
            o_gf, p_gf, o_oth, p_oth = [], [], [], []
            passive = a.passive_ab and t > 1
            for r in range(a.repeat):
                print(f"compare_torch: {m} threads={t} repeat {r + 1}/{a.repeat}", file=sys.stderr)
                o, oo = others_cpus(lambda: ours(a.bin, m, t, a.steps, a.warmup))
                p, po = others_cpus(lambda: torch_child(m, t, a.steps, a.warmup))
                o_oth.append(oo); p_oth.append(po)
                o_tr.append(o["train"]["ex_per_s"]); o_in.append(o["infer"]["ex_per_s"])
                p_tr.append(p["train"]["ex_per_s"]); p_in.append(p["infer"]["ex_per_s"])
                o_gf.append(o["train"].get("gflops", 0.0)); p_gf.append(p["train"]["gflops"])
                if passive:
                    q = ours(a.bin, m, t, a.steps, a.warmup, "passive")
                    q_tr.append(q["train"]["ex_per_s"]); q_in.append(q["infer"]["ex_per_s"])
            row = {"model": m, "threads": t,
                   "ours_train_ex_per_s": statistics.median(o_tr),
                   "torch_train_ex_per_s": statistics.median(p_tr),
                   "ours_infer_ex_per_s": statistics.median(o_in),
                   "torch_infer_ex_per_s": statistics.median(p_in),
                   "ours_train_gflops": statistics.median(o_gf),
                   "torch_train_gflops": statistics.median(p_gf),
                   "ours_train_ex_per_s_all": o_tr, "torch_train_ex_per_s_all": p_tr,
                   "others_cpus_ours": [round(x, 2) for x in o_oth],
                   "others_cpus_torch": [round(x, 2) for x in p_oth]}
            if passive:
                row["ours_passive_train_ex_per_s"] = statistics.median(q_tr)
                row["ours_passive_infer_ex_per_s"] = statistics.median(q_in)
                row["ours_passive_train_ex_per_s_all"] = q_tr
                row["passive_vs_default_train"] = row["ours_passive_train_ex_per_s"] / \
                    row["ours_train_ex_per_s"]
            row["train_ratio"] = row["ours_train_ex_per_s"] / row["torch_train_ex_per_s"]
            row["infer_ratio"] = row["ours_infer_ex_per_s"] / row["torch_infer_ex_per_s"]
            row["train_target"] = 1.0 if t == 1 else 1.3
            row["train_target_met"] = row["train_ratio"] >= row["train_target"]
            rows.append(row)
            print(f"compare_torch: {m} thr={t} train ours {row['ours_train_ex_per_s']:.1f} vs torch "
                  f"{row['torch_train_ex_per_s']:.1f} ex/s = {row['train_ratio']:.2f}x; infer "
                  f"{row['infer_ratio']:.2f}x" + (
                      f"; passive {row['ours_passive_train_ex_per_s']:.1f} ex/s train"
                      if passive else ""), file=sys.stderr)
    print(json.dumps({"torch_variant": "malloc (tuned allocator)", "steps": a.steps,
                      "warmup": a.warmup, "repeat": a.repeat, "passive_ab": a.passive_ab,
                      "results": rows}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
