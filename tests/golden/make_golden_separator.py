"""Golden values for tests/test_separator.c: a tiny separator (5 bins, LSTM 2 x 4, two
ReLU heads, soft mask, discriminative loss) in PyTorch, exactly as
../shared/reference/torch/models.py defines it, with fixed weights. Writes the weights
(named as our parameters; our one LSTM bias = PyTorch b_ih + b_hh, here b_hh = 0), the
inputs, s1, s2, and the loss and every parameter gradient at gamma 0 and 0.05.
Run: /usr/bin/python3 tests/golden/make_golden_separator.py"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_io  # noqa: E402

B, T, BINS, H, L = 2, 3, 5, 4, 2
rng = np.random.default_rng(6)
torch.set_default_dtype(torch.float64)


def u(shape, a):
    return rng.uniform(-a, a, size=shape)


W = {}
for k in range(L):
    W["lstm/l%d/w_ih" % k] = u((4 * H, BINS if k == 0 else H), 0.6)
    W["lstm/l%d/w_hh" % k] = u((4 * H, H), 0.6)
    W["lstm/l%d/b" % k] = u((4 * H,), 0.4)
for h in ("head1", "head2"):
    W[h + "/weight"] = u((BINS, H), 0.8)
    W[h + "/bias"] = u((BINS,), 0.3) + 0.6
x = rng.uniform(0.1, 2.0, size=(B, T, BINS))
t1 = rng.uniform(0.0, 1.0, size=(B, T, BINS)) * x
t2 = x - t1

rec = {"x": x, "t1": t1, "t2": t2}
rec.update(W)
for gname, gamma in (("g0", 0.0), ("g5", 0.05)):
    P = {k: torch.tensor(v, requires_grad=True) for k, v in W.items()}
    lstm = torch.nn.LSTM(BINS, H, num_layers=L, batch_first=True)
    with torch.no_grad():
        for k in range(L):
            getattr(lstm, "weight_ih_l%d" % k).copy_(P["lstm/l%d/w_ih" % k])
            getattr(lstm, "weight_hh_l%d" % k).copy_(P["lstm/l%d/w_hh" % k])
            getattr(lstm, "bias_ih_l%d" % k).copy_(P["lstm/l%d/b" % k])
            getattr(lstm, "bias_hh_l%d" % k).zero_()
    xt = torch.tensor(x)
    h, _ = lstm(xt)
    y1 = F.relu(h @ P["head1/weight"].T + P["head1/bias"])
    y2 = F.relu(h @ P["head2/weight"].T + P["head2/bias"])
    a1, a2 = y1.abs(), y2.abs()
    m = a1 / (a1 + a2 + 1e-8)
    s1, s2 = m * xt, (1.0 - m) * xt
    tt1, tt2 = torch.tensor(t1), torch.tensor(t2)

    def msq(a, b):
        return (a - b).pow(2).mean()
    loss = msq(s1, tt1) + msq(s2, tt2) - gamma * (msq(s1, tt2) + msq(s2, tt1))
    loss.backward()
    rec["loss_" + gname] = [loss.item()]
    rec["s1"] = s1.detach().numpy()
    rec["s2"] = s2.detach().numpy()
    for k in range(L):
        rec["grad_%s/lstm/l%d/w_ih" % (gname, k)] = lstm.weight_ih_l0.grad.numpy() if k == 0 else lstm.weight_ih_l1.grad.numpy()
        rec["grad_%s/lstm/l%d/w_hh" % (gname, k)] = getattr(lstm, "weight_hh_l%d" % k).grad.numpy()
        rec["grad_%s/lstm/l%d/b" % (gname, k)] = getattr(lstm, "bias_ih_l%d" % k).grad.numpy()
    for hn in ("head1", "head2"):
        rec["grad_%s/%s/weight" % (gname, hn)] = P[hn + "/weight"].grad.numpy()
        rec["grad_%s/%s/bias" % (gname, hn)] = P[hn + "/bias"].grad.numpy()

golden_io.write(os.path.join(os.path.dirname(os.path.abspath(__file__)), "separator.txt"), rec)
