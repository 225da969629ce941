"""Golden values for tests/test_optim.c: a few steps of torch.optim SGD (momentum,
Nesterov), Adam and AdamW on fixed parameters with fixed per-step gradients, and
torch.nn.utils.clip_grad_norm_. Run: /usr/bin/python3 tests/golden/make_golden_optim.py"""
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_io  # noqa: E402

STEPS = 5
rng = np.random.default_rng(20240601)
w0 = rng.standard_normal((3, 4)).astype(np.float32)
b0 = rng.standard_normal((4,)).astype(np.float32)
gw = rng.standard_normal((STEPS, 3, 4)).astype(np.float32)
gb = rng.standard_normal((STEPS, 4)).astype(np.float32)

rec = {"w0": w0, "b0": b0, "gw": gw, "gb": gb}

CASES = {
    "sgd": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, weight_decay=0.01),
    "nesterov": lambda p: torch.optim.SGD(p, lr=0.05, momentum=0.8, nesterov=True),
    "adam": lambda p: torch.optim.Adam(p, lr=0.01, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
    "adamw": lambda p: torch.optim.AdamW(p, lr=0.01, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1),
}
for name, make in CASES.items():
    w = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    b = torch.nn.Parameter(torch.from_numpy(b0.copy()))
    opt = make([w, b])
    for s in range(STEPS):
        w.grad = torch.from_numpy(gw[s].copy())
        b.grad = torch.from_numpy(gb[s].copy())
        opt.step()
        rec["%s_w%d" % (name, s)] = w.detach().numpy().copy()
        rec["%s_b%d" % (name, s)] = b.detach().numpy().copy()

# clipping: the first step's gradients, max_norm below and above the norm
for tag, mx in (("clip_lo", 1.0), ("clip_hi", 100.0)):
    w = torch.nn.Parameter(torch.from_numpy(w0.copy()))
    b = torch.nn.Parameter(torch.from_numpy(b0.copy()))
    w.grad = torch.from_numpy(gw[0].copy())
    b.grad = torch.from_numpy(gb[0].copy())
    n = torch.nn.utils.clip_grad_norm_([w, b], mx)
    rec[tag + "_norm"] = np.array([float(n)])
    rec[tag + "_gw"] = w.grad.numpy().copy()
    rec[tag + "_gb"] = b.grad.numpy().copy()

golden_io.write(os.path.join(os.path.dirname(os.path.abspath(__file__)), "optim.txt"), rec)
