#!/usr/bin/python3
"""Golden values for tests/test_ops_basic.c: softmax cross-entropy, BCE with logits, the
Huang et al. 2014 time-frequency mask + discriminative loss (gamma 0.05 and 0).
Computed with PyTorch in float64; inputs are stored too (as float32-exact values) so the
C test feeds exactly the same numbers. Run: /usr/bin/python3 tests/golden/make_golden_losses.py"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_io  # noqa: E402

EPS = 1e-8


def f32(a):
    """Round to float32 (what the C side stores), keep float64 for the computation."""
    return torch.tensor(np.asarray(a, dtype=np.float32).astype(np.float64))


def main():
    rng = np.random.default_rng(1234)
    rec = {}

    # softmax cross-entropy, ordinary and very large logits (stability)
    for tag, scale in (("sce", 3.0), ("sce_big", 60.0)):
        x = f32(rng.standard_normal((6, 5)) * scale).requires_grad_(True)
        lab = rng.integers(0, 5, size=6)
        loss = F.cross_entropy(x, torch.tensor(lab))
        loss.backward()
        rec[tag + "_logits"] = x.detach().numpy()
        rec[tag + "_labels"] = lab.astype(np.float64)
        rec[tag + "_loss"] = [loss.item()]
        rec[tag + "_grad"] = x.grad.numpy()

    # BCE with logits, without and with per-element weights; soft targets
    x = f32(rng.standard_normal((4, 7)) * 4.0)
    t = f32(rng.uniform(0, 1, (4, 7)))
    w = f32(rng.uniform(0.5, 2.0, (4, 7)))
    rec["bce_logits"], rec["bce_targets"], rec["bce_weight"] = x.numpy(), t.numpy(), w.numpy()
    for tag, weight in (("bce", None), ("bcew", w)):
        xx = x.clone().requires_grad_(True)
        loss = F.binary_cross_entropy_with_logits(xx, t, weight=weight)
        loss.backward()
        rec[tag + "_loss"] = [loss.item()]
        rec[tag + "_grad"] = xx.grad.numpy()

    # mask + discriminative loss
    shape = (2, 3, 5)
    sign = lambda: np.where(rng.uniform(size=shape) < 0.2, -1.0, 1.0)  # noqa: E731
    y1 = f32(rng.uniform(0.05, 2.0, shape) * sign())
    y2 = f32(rng.uniform(0.05, 2.0, shape) * sign())
    x = f32(rng.uniform(0.0, 3.0, shape))
    t1 = f32(rng.uniform(0.0, 2.0, shape))
    t2 = f32(rng.uniform(0.0, 2.0, shape))
    for k, v in (("y1", y1), ("y2", y2), ("x", x), ("t1", t1), ("t2", t2)):
        rec["mask_" + k] = v.numpy()

    def run(gamma):
        a, b, xx = (v.clone().requires_grad_(True) for v in (y1, y2, x))
        a1, a2 = a.abs(), b.abs()
        s1 = a1 / (a1 + a2 + EPS) * xx
        s2 = xx - s1
        msq = lambda p, q: (p - q).pow(2).mean()  # noqa: E731
        if gamma is None:   # the cross term alone: msq(s1,t2) + msq(s2,t1)
            loss = msq(s1, t2) + msq(s2, t1)
        else:
            loss = msq(s1, t1) + msq(s2, t2) - gamma * (msq(s1, t2) + msq(s2, t1))
        loss.backward()
        return s1.detach(), s2.detach(), loss.item(), a.grad, b.grad, xx.grad

    for tag, gamma in (("g05", 0.05), ("g0", 0.0), ("cross", None)):
        s1, s2, loss, ga, gb, gx = run(gamma)
        if tag == "g05":
            rec["mask_s1"], rec["mask_s2"] = s1.numpy(), s2.numpy()
        rec["mask_%s_loss" % tag] = [loss]
        rec["mask_%s_gy1" % tag] = ga.numpy()
        rec["mask_%s_gy2" % tag] = gb.numpy()
        rec["mask_%s_gx" % tag] = gx.numpy()

    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "losses.txt")
    golden_io.write(out, rec)
    print("wrote", out)


if __name__ == "__main__":
    main()
