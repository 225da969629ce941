"""Golden values for tests/test_transcriber.c: a tiny transcriber (models/transcriber.h) in
PyTorch, with the same layer order and conventions:
  x (B, 1, T + ctx - 1, bins) -> conv3x3 c1 -> relu -> conv3x3 c2 -> relu -> BatchNorm ->
  maxpool (1, 2) -> conv3x3 c3 -> relu -> maxpool (1, 2) -> conv (kt, F') dense -> relu ->
  1x1 heads frame / onset / velocity -> (B, 88, T, 1) -> (B, T, 88)
  loss = wf BCE(frame) + wo BCE(onset) + wv sum(onset_t (sigmoid(vel) - vel_t)^2) / max(1, sum(onset_t))
Sizes: bins 16, channels (2, 3, 4), dense 5, kt 2 (ctx 8), B 2, T 4; dropout off.
Weights, inputs and targets are random (seeded) and written to the file. Records: every
parameter under our name, the input, targets, then in training mode (batch statistics)
the loss, its three terms, the probabilities and the gradients of every trainable
parameter; the running statistics after that forward; then the probabilities in eval mode.
Run: /usr/bin/python3 tests/golden/make_golden_transcriber.py"""
import os
import sys

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import golden_io  # noqa: E402

BINS, C1, C2, C3, DENSE, KT = 16, 2, 3, 4, 5, 2
CTX = 6 + KT
FP = ((BINS - 4) // 2 - 2) // 2
B, T, KEYS = 2, 4, 88
WF, WO, WV = 1.0, 0.7, 2.0


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, C1, 3)
        self.conv2 = nn.Conv2d(C1, C2, 3)
        self.bn = nn.BatchNorm2d(C2)
        self.conv3 = nn.Conv2d(C2, C3, 3)
        self.dense = nn.Conv2d(C3, DENSE, (KT, FP))
        self.frame = nn.Conv2d(DENSE, KEYS, 1)
        self.onset = nn.Conv2d(DENSE, KEYS, 1)
        self.velocity = nn.Conv2d(DENSE, KEYS, 1)

    def forward(self, x):
        h = F.relu(self.conv1(x))
        h = F.relu(self.conv2(h))
        h = F.max_pool2d(self.bn(h), (1, 2))
        h = F.max_pool2d(F.relu(self.conv3(h)), (1, 2))
        h = F.relu(self.dense(h))
        rows = lambda y: y.permute(0, 2, 1, 3).reshape(y.shape[0], y.shape[2], KEYS)
        return rows(self.frame(h)), rows(self.onset(h)), rows(self.velocity(h))


def main():
    torch.manual_seed(5)
    rng = np.random.default_rng(5)
    m = Tiny().float()
    with torch.no_grad():   # non-trivial batch-norm affine parameters and running statistics
        m.bn.weight.uniform_(0.5, 1.5)
        m.bn.bias.uniform_(-0.3, 0.3)
        m.bn.running_mean.uniform_(-0.2, 0.2)
        m.bn.running_var.uniform_(0.5, 2.0)
    rec = {}
    for name, t in list(m.named_parameters()) + [("bn.running_mean", m.bn.running_mean),
                                                 ("bn.running_var", m.bn.running_var)]:
        rec[name.replace(".", "/")] = t.detach().numpy().copy()
    x = torch.tensor(rng.uniform(0, 2, (B, 1, T + CTX - 1, BINS)), dtype=torch.float32)
    tf = torch.tensor(rng.uniform(0, 1, (B, T, KEYS)) < 0.3, dtype=torch.float32)
    to = torch.tensor(rng.uniform(0, 1, (B, T, KEYS)) < 0.1, dtype=torch.float32)
    tv = torch.tensor(rng.uniform(0, 1, (B, T, KEYS)), dtype=torch.float32) * to
    rec["x"], rec["t_frame"], rec["t_onset"], rec["t_vel"] = x.numpy(), tf.numpy(), to.numpy(), tv.numpy()

    m.train()
    fl, ol, vl = m(x)
    lf = F.binary_cross_entropy_with_logits(fl, tf)
    lo = F.binary_cross_entropy_with_logits(ol, to)
    lv = (to * (torch.sigmoid(vl) - tv) ** 2).sum() / torch.clamp(to.sum(), min=1.0)
    loss = WF * lf + WO * lo + WV * lv
    loss.backward()
    rec["train/loss"] = [loss.item()]
    rec["train/loss_terms"] = [lf.item(), lo.item(), lv.item()]
    rec["train/frame_prob"] = torch.sigmoid(fl).detach().numpy()
    rec["train/onset_prob"] = torch.sigmoid(ol).detach().numpy()
    rec["train/vel_prob"] = torch.sigmoid(vl).detach().numpy()
    for name, t in m.named_parameters():
        rec["grad/" + name.replace(".", "/")] = t.grad.numpy().copy()
    rec["after/bn/running_mean"] = m.bn.running_mean.numpy().copy()
    rec["after/bn/running_var"] = m.bn.running_var.numpy().copy()

    m.eval()
    with torch.no_grad():
        fl, ol, vl = m(x)
    rec["eval/frame_prob"] = torch.sigmoid(fl).numpy()
    rec["eval/onset_prob"] = torch.sigmoid(ol).numpy()
    rec["eval/vel_prob"] = torch.sigmoid(vl).numpy()
    golden_io.write(os.path.join(HERE, "transcriber.txt"), rec)


if __name__ == "__main__":
    main()
