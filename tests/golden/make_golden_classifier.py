"""Golden values for tests/test_classifier.c: the full reference Classifier of
../shared/reference/torch/models.py (Han et al. 2017: 1,446,123 parameters) in eval mode,
with weights given by a formula both sides compute (so the file stays tiny):
  parameter number p (in the order of PARAMS below, our names), element k (C order):
    weights  w = s * sqrt(2) * sin(0.001 k^2 + 0.7 k + 0.3 p),  s = sqrt(2 / fan_in) (He scale)
    biases   b = 0.05 * sin(1.3 k + p)
  input x[i] (C order of (2, 1, 128, 43)) = sin(0.05 i) * cos(0.003 i) * 2
values computed in float64 and rounded to float32 (as the C side does). Writes the
logits (2, 11), the parameter count, and the softmax cross-entropy for labels (3, 10).
Run: /usr/bin/python3 tests/golden/make_golden_classifier.py"""
import math
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import golden_io  # noqa: E402

sys.path.insert(0, os.path.join(HERE, "..", "..", "..", "shared", "reference", "torch"))
from models import Classifier  # noqa: E402

# our parameter names -> the reference's state_dict names
# (features: conv, relu, conv, relu, pool, dropout per pooled block)
PARAMS = []
idx = {1: (0, 2), 2: (6, 8), 3: (12, 14), 4: (18, 20)}
for blk in (1, 2, 3, 4):
    for j, t in enumerate(idx[blk]):
        PARAMS.append(("block%d/conv%d/weight" % (blk, j + 1), "features.%d.weight" % t))
        PARAMS.append(("block%d/conv%d/bias" % (blk, j + 1), "features.%d.bias" % t))
PARAMS += [("fc1/weight", "fc1.weight"), ("fc1/bias", "fc1.bias"),
           ("fc2/weight", "fc2.weight"), ("fc2/bias", "fc2.bias")]


def value(p, shape, is_bias):
    k = np.arange(int(np.prod(shape)), dtype=np.float64)
    if is_bias:
        v = 0.05 * np.sin(1.3 * k + p)
    else:
        fan_in = int(np.prod(shape[1:]))
        v = math.sqrt(2.0 / fan_in) * math.sqrt(2.0) * np.sin(1e-3 * k * k + 0.7 * k + 0.3 * p)
    return v.astype(np.float32).reshape(shape)


torch.manual_seed(0)
model = Classifier().eval()
sd = model.state_dict()
assert len(PARAMS) == len(sd), (len(PARAMS), len(sd))
for p, (ours, theirs) in enumerate(PARAMS):
    t = sd[theirs]
    sd[theirs] = torch.from_numpy(value(p, tuple(t.shape), ours.endswith("bias")))
model.load_state_dict(sd)

i = np.arange(2 * 1 * 128 * 43, dtype=np.float64)
x = (np.sin(0.05 * i) * np.cos(0.003 * i) * 2).astype(np.float32).reshape(2, 1, 128, 43)
with torch.no_grad():
    logits = model(torch.from_numpy(x))
    loss = F.cross_entropy(logits.double(), torch.tensor([3, 10]))
    l64 = model.double()(torch.from_numpy(x).double())
print("float32 vs float64 relative error: %.3g" % ((logits.double() - l64).abs().max() / l64.abs().max()).item())
n_params = sum(q.numel() for q in model.parameters())
golden_io.write(os.path.join(HERE, "classifier.txt"), {
    "n_params": [n_params],
    "logits": logits.numpy(),
    "logits64": l64.numpy(),
    "loss": [loss.item()],
})
print("wrote classifier.txt: %d parameters, logits %s" % (n_params, logits.numpy().round(4)))
