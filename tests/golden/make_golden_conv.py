#!/usr/bin/python3
"""Golden values for tests/test_ops_conv.c (inputs float32-exact, computed in float64):
conv2d forward + gradients, batch norm
(train-mode forward, gradients, updated running statistics; eval-mode forward), max
pooling forward + gradient. Every gradient is of L = sum(y * dy) for a stored random dy.
Run from the project root: /usr/bin/python3 tests/golden/make_golden_conv.py"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_io  # noqa: E402

torch.manual_seed(1234)
rec = {}

# name, x shape, w shape, bias, stride, padding
CONVS = [
    ("conv_a", (2, 3, 7, 6), (4, 3, 3, 3), True, (1, 1), (1, 1)),
    ("conv_b", (2, 2, 6, 9), (3, 2, 3, 3), True, (2, 1), (1, 0)),
    ("conv_c", (1, 1, 5, 7), (2, 1, 2, 3), False, (2, 2), (0, 0)),
    ("conv_d", (3, 4, 5, 5), (5, 4, 1, 1), True, (1, 1), (0, 0)),
]
for name, xs, ws, bias, stride, pad in CONVS:
    x = torch.randn(*xs).double().requires_grad_()
    w = (torch.randn(*ws) * 0.5).double().requires_grad_()
    b = torch.randn(ws[0]).double().requires_grad_() if bias else None
    y = F.conv2d(x, w, b, stride=stride, padding=pad)
    dy = torch.randn(*y.shape).double()
    (y * dy).sum().backward()
    rec[name + "_x"] = x.detach()
    rec[name + "_w"] = w.detach()
    if bias:
        rec[name + "_b"] = b.detach()
    rec[name + "_dy"] = dy
    rec[name + "_y"] = y.detach()
    rec[name + "_dx"] = x.grad
    rec[name + "_dw"] = w.grad
    if bias:
        rec[name + "_db"] = b.grad

# batch norm: train-mode step then eval-mode forward with the updated running stats
x = (torch.randn(4, 3, 5, 6) * 2 + 0.5).double().requires_grad_()
gamma = (torch.rand(3) + 0.5).double().requires_grad_()
beta = torch.randn(3).double().requires_grad_()
rm = (torch.randn(3) * 0.1).double()
rv = (torch.rand(3) + 0.5).double()
rec["bn_x"], rec["bn_gamma"], rec["bn_beta"] = x.detach(), gamma.detach(), beta.detach()
rec["bn_rm0"], rec["bn_rv0"] = rm.clone(), rv.clone()
y = F.batch_norm(x, rm, rv, gamma, beta, training=True, momentum=0.1, eps=1e-5)
dy = torch.randn(*y.shape).double()
(y * dy).sum().backward()
rec["bn_dy"], rec["bn_y"] = dy, y.detach()
rec["bn_dx"], rec["bn_dgamma"], rec["bn_dbeta"] = x.grad, gamma.grad, beta.grad
rec["bn_rm1"], rec["bn_rv1"] = rm.clone(), rv.clone()
with torch.no_grad():
    rec["bn_y_eval"] = F.batch_norm(x, rm, rv, gamma, beta, training=False, eps=1e-5)

# max pooling (floor mode); values distinct so ties do not matter
POOLS = [
    ("pool_a", (2, 3, 7, 8), (3, 3), (3, 3)),
    ("pool_b", (2, 2, 5, 9), (1, 2), (1, 2)),
    ("pool_c", (1, 2, 7, 7), (3, 3), (2, 2)),
]
for name, xs, k, s in POOLS:
    n = 1
    for d in xs:
        n *= d
    x = (torch.randperm(n, dtype=torch.float64).reshape(*xs) / n).requires_grad_()
    y = F.max_pool2d(x, k, s)
    dy = torch.randn(*y.shape).double()
    (y * dy).sum().backward()
    rec[name + "_x"], rec[name + "_y"], rec[name + "_dy"], rec[name + "_dx"] = x.detach(), y.detach(), dy, x.grad

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "conv.txt")
golden_io.write(out, {k: v.numpy() for k, v in rec.items()})
print("wrote", out)
