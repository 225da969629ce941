#!/usr/bin/python3
"""bench/bench_layers_torch.py: PyTorch 1.13 twins of bench_conv.c and bench_lstm.c.

Same shapes, layer names, FLOP accounting and JSON keys as our C benchmarks, so the two can
be joined by (model, layer) and compared key by key:

  conv   every conv layer of the classifier (batch 32, 1 x 128 x 43, 3x3 'same') and the
         transcriber (batch 256, 1 x 5 x 229, 3x3, padding (1, 0)); forward + backward
         (weight and bias gradient, and the input gradient except for each model's first
         layer, "dx": false). FLOPs = 2*MACs for forward, weight grad and input grad each.
         Best of --conv-reps timed repetitions after one warm-up (bench_conv's default 2).
  lstm   nn.LSTM(513, 256, num_layers=2, batch_first=True), B=16, T=100: training
         = zero_grad + forward + backward of sum(y * r) (x is data: no input gradient), and
         inference = forward under no_grad. FLOPs: forward = sum over layers of
         2*B*T*4H*(I_l + H), training = 3 x forward. Best (and median) of --lstm-reps after
         one warm-up (bench_lstm's default 5).

Each thread count runs in a fresh child process with the environment of the "malloc"
variant of ../shared/reference/torch/bench.py: OMP_NUM_THREADS = OPENBLAS_NUM_THREADS = n,
torch.set_num_threads(n), glibc malloc kept from returning big blocks
(MALLOC_MMAP_THRESHOLD_=1 GiB, MALLOC_TRIM_THRESHOLD_=4 GiB, MALLOC_TOP_PAD_=512 MiB), no
OMP_WAIT_POLICY; oneDNN left enabled (torch as installed).

  /usr/bin/python3 bench/bench_layers_torch.py [--threads 1[,2]] [--conv-reps 2] [--lstm-reps 5]
                                               [--only conv|lstm]

Prints ONE JSON object on stdout: for a single thread count {"threads": n, "conv": {...,
"layers": [...], "totals": {...}}, "lstm": {...}}; for a list {"results": [one per n]}.
Prints {"skipped": reason} and exits 0 when torch is not installed.
"""
import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time

# (model, name, N, C, H, W, O, ph, pw, dx): bench_conv.c's LAYERS, in the same order
CONV_LAYERS = [
    ("classifier", "conv1a", 32, 1, 128, 43, 32, 1, 1, 0),
    ("classifier", "conv1b", 32, 32, 128, 43, 32, 1, 1, 1),
    ("classifier", "conv2a", 32, 32, 42, 14, 64, 1, 1, 1),
    ("classifier", "conv2b", 32, 64, 42, 14, 64, 1, 1, 1),
    ("classifier", "conv3a", 32, 64, 14, 4, 128, 1, 1, 1),
    ("classifier", "conv3b", 32, 128, 14, 4, 128, 1, 1, 1),
    ("classifier", "conv4a", 32, 128, 4, 1, 256, 1, 1, 1),
    ("classifier", "conv4b", 32, 256, 4, 1, 256, 1, 1, 1),
    ("transcriber", "conv1", 256, 1, 5, 229, 32, 1, 0, 0),
    ("transcriber", "conv2", 256, 32, 5, 227, 32, 1, 0, 1),
    ("transcriber", "conv3", 256, 32, 5, 112, 64, 1, 0, 1),
]
LSTM_SHAPE = dict(B=16, T=100, I=513, H=256, layers=2)   # bench_lstm.c's defaults

MALLOC_ENV = dict(MALLOC_MMAP_THRESHOLD_=str(1 << 30), MALLOC_TRIM_THRESHOLD_=str(1 << 32),
                  MALLOC_TOP_PAD_=str(1 << 29))


# ------------------------------------------------------------------------ child side

def busy_now():
    """(busy jiffies of the whole shared kernel in s, own CPU s, wall s)"""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:9]]
    t = os.times()
    return (sum(v) - v[3] - v[4] - v[7]) / os.sysconf("SC_CLK_TCK"), t.user + t.system, \
        time.perf_counter()


def others_cpus(a, b):
    """CPUs other tenants kept busy between two busy_now() samples (0 = quiet, 1 = a core)"""
    wall = b[2] - a[2]
    return round(max(0.0, ((b[0] - a[0]) - (b[1] - a[1])) / wall), 2) if wall > 0 else 0.0


def bench_conv(torch, threads, reps):
    import torch.nn.functional as F
    g = torch.Generator().manual_seed(1)

    def rnd(*shape):
        return torch.rand(*shape, generator=g) * 2 - 1

    layers, tot = [], {}
    for model, name, N, C, H, W, O, ph, pw, dx in CONV_LAYERS:
        x = rnd(N, C, H, W).requires_grad_(bool(dx))
        w = rnd(O, C, 3, 3).requires_grad_(True)
        b = rnd(O).requires_grad_(True)
        Ho, Wo = H + 2 * ph - 2, W + 2 * pw - 2
        gy = rnd(N, O, Ho, Wo)
        inputs = [x, w, b] if dx else [w, b]
        K, P = C * 9, Ho * Wo
        flops = 2.0 * N * O * K * P * (3 if dx else 2)
        ts = []
        for r in range(reps + 1):
            t0 = time.perf_counter()
            y = F.conv2d(x, w, b, stride=1, padding=(ph, pw))
            torch.autograd.grad(y, inputs, gy)
            dt = time.perf_counter() - t0
            if r > 0:
                ts.append(dt)
        best = min(ts)
        layers.append({"model": model, "layer": name, "x": [N, C, H, W], "out_channels": O,
                       "padding": [ph, pw], "dx": bool(dx), "gemm_MxNxK": [O, P, K],
                       "gflop": round(flops * 1e-9, 3), "conv_ms": round(best * 1e3, 2),
                       "conv_ms_median": round(statistics.median(ts) * 1e3, 2),
                       "conv_gflops": round(flops / best * 1e-9, 1)})
        t = tot.setdefault(model, [0.0, 0.0])
        t[0] += flops
        t[1] += best
    totals = {m: {"gflop": round(f * 1e-9, 2), "conv_ms": round(s * 1e3, 1),
                  "conv_gflops": round(f / s * 1e-9, 1)} for m, (f, s) in tot.items()}
    return {"threads": threads, "reps": reps, "layers": layers, "totals": totals}


def bench_lstm(torch, threads, reps):
    s = LSTM_SHAPE
    B, T, I, H, L = s["B"], s["T"], s["I"], s["H"], s["layers"]
    torch.manual_seed(1)
    lstm = torch.nn.LSTM(I, H, num_layers=L, batch_first=True)
    g = torch.Generator().manual_seed(1)
    x = torch.rand(B, T, I, generator=g)
    r = torch.rand(B, T, H, generator=g) * 2e-3 - 1e-3
    R, G = B * T, 4 * H
    fwd = sum(2.0 * R * G * ((I if l == 0 else H) + H) for l in range(L))

    def train():
        lstm.zero_grad(set_to_none=True)
        y, _ = lstm(x)
        y.backward(r)

    def infer():
        with torch.no_grad():
            lstm(x)

    t_train, t_infer = [], []
    train()
    infer()
    for _ in range(reps):           # interleaved like bench_lstm.c
        t0 = time.perf_counter()
        train()
        t_train.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        infer()
        t_infer.append(time.perf_counter() - t0)
    bt, bi = min(t_train), min(t_infer)
    return {"threads": threads, "B": B, "T": T, "I": I, "H": H, "layers": L, "reps": reps,
            "train_ms": round(bt * 1e3, 2),
            "train_ms_median": round(statistics.median(t_train) * 1e3, 2),
            "train_gflops": round(3 * fwd / bt * 1e-9, 1),
            "train_gflops_executed": round((3 * fwd - 2.0 * R * G * I) / bt * 1e-9, 1),
            "infer_ms": round(bi * 1e3, 2),
            "infer_ms_median": round(statistics.median(t_infer) * 1e3, 2),
            "infer_gflops": round(fwd / bi * 1e-9, 1),
            "train_sequences_per_s": round(B / bt, 1)}


def child(a):
    import torch
    n = int(a.threads)
    torch.set_num_threads(n)
    res = {"threads": n, "torch": torch.__version__, "variant": "malloc",
           "torch_threads": torch.get_num_threads(),
           "mkldnn_enabled": torch.backends.mkldnn.enabled,
           "OPENBLAS_NUM_THREADS": os.environ.get("OPENBLAS_NUM_THREADS")}
    if a.only in (None, "conv"):
        s0 = busy_now()
        res["conv"] = bench_conv(torch, n, a.conv_reps)
        res["conv"]["others_cpus"] = others_cpus(s0, busy_now())
    if a.only in (None, "lstm"):
        s0 = busy_now()
        res["lstm"] = bench_lstm(torch, n, a.lstm_reps)
        res["lstm"]["others_cpus"] = others_cpus(s0, busy_now())
    print("RESULT " + json.dumps(res))


# ----------------------------------------------------------------------- parent side

def run_child(threads, a):
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(threads)
    env["OPENBLAS_NUM_THREADS"] = str(threads)
    env.pop("OMP_WAIT_POLICY", None)
    env.update(MALLOC_ENV)
    cmd = ["/usr/bin/python3", os.path.abspath(__file__), "--child", "--threads", str(threads),
           "--conv-reps", str(a.conv_reps), "--lstm-reps", str(a.lstm_reps)]
    if a.only:
        cmd += ["--only", a.only]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True)
    for line in p.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[7:])
    raise SystemExit(f"bench_layers_torch: child for {threads} thread(s) failed "
                     f"({p.returncode}): {p.stderr[-800:]}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--threads", default="1,2", help="thread count or comma list")
    ap.add_argument("--conv-reps", type=int, default=2)
    ap.add_argument("--lstm-reps", type=int, default=5)
    ap.add_argument("--only", choices=("conv", "lstm"))
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    a = ap.parse_args()
    a.conv_reps, a.lstm_reps = max(1, a.conv_reps), max(1, a.lstm_reps)
    if a.child:
        return child(a)
    if importlib.util.find_spec("torch") is None:
        print(json.dumps({"skipped": "python3-torch is not installed"}))
        return 0
    try:
        threads = [int(t) for t in a.threads.split(",")]
    except ValueError:
        ap.error(f"--threads: '{a.threads}' is not a thread count or comma list")
    res = []
    for t in threads:
        print(f"bench_layers_torch: {t} thread(s)", file=sys.stderr)
        res.append(run_child(t, a))
    print(json.dumps(res[0] if len(res) == 1 else {"results": res}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
