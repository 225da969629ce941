#!/usr/bin/python3
"""Golden values for the fused LSTM op (tests/test_lstm.c): a 2-layer torch.nn.LSTM
(batch_first) with fixed random weights, forward output y and, for L = sum(y * r) with a
random upstream gradient r, the gradients of x and of every weight. b = b_ih + b_hh (its
gradient equals each of b_ih.grad and b_hh.grad). Also the reverse direction: the same
stack run on the time-flipped sequence, output flipped back (our reverse = 1).
Run: /usr/bin/python3 tests/golden/make_golden_lstm.py  -> tests/golden/lstm.txt"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_io  # noqa: E402

B, T, I, H, L = 3, 6, 7, 8, 2


def run(lstm, x, r, reverse):
    x = x.clone().requires_grad_(True)
    lstm.zero_grad()
    xin = torch.flip(x, [1]) if reverse else x
    y, _ = lstm(xin)
    if reverse:
        y = torch.flip(y, [1])
    (y * r).sum().backward()
    out = {"y": y.detach(), "dx": x.grad}
    for k in range(L):
        out["dw_ih%d" % k] = getattr(lstm, "weight_ih_l%d" % k).grad.clone()
        out["dw_hh%d" % k] = getattr(lstm, "weight_hh_l%d" % k).grad.clone()
        out["db%d" % k] = getattr(lstm, "bias_ih_l%d" % k).grad.clone()
        assert torch.allclose(getattr(lstm, "bias_ih_l%d" % k).grad, getattr(lstm, "bias_hh_l%d" % k).grad, rtol=1e-5, atol=1e-6)
    return out


def main():
    torch.manual_seed(1234)
    lstm = torch.nn.LSTM(I, H, num_layers=L, batch_first=True)
    with torch.no_grad():   # larger weights than the default so the gates saturate a bit
        for p in lstm.parameters():
            p.uniform_(-0.6, 0.6)
    x = torch.randn(B, T, I)
    r = torch.randn(B, T, H)
    rec = {"x": x, "r": r}
    for k in range(L):
        rec["w_ih%d" % k] = getattr(lstm, "weight_ih_l%d" % k).detach()
        rec["w_hh%d" % k] = getattr(lstm, "weight_hh_l%d" % k).detach()
        rec["b%d" % k] = (getattr(lstm, "bias_ih_l%d" % k) + getattr(lstm, "bias_hh_l%d" % k)).detach()
    for reverse, tag in ((0, "fwd"), (1, "rev")):
        for name, v in run(lstm, x, r, reverse).items():
            rec["%s_%s" % (tag, name)] = v
    golden_io.write(os.path.join(os.path.dirname(os.path.abspath(__file__)), "lstm.txt"),
                    {k: v.numpy() for k, v in rec.items()})


if __name__ == "__main__":
    main()
