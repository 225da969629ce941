"""Writes golden files read by tests/golden.h: records "@NAME NDIM D0 D1 ..." + values."""
import numpy as np


def write(path, records):
    """records: dict name -> array-like (written in C order as float32-exact %.9g)."""
    with open(path, "w") as f:
        for name, arr in records.items():
            a = np.asarray(arr, dtype=np.float64)
            f.write("@%s %d %s\n" % (name, a.ndim, " ".join(str(d) for d in a.shape)))
            flat = a.reshape(-1)
            for i in range(0, flat.size, 8):
                f.write(" ".join("%.9g" % x for x in flat[i:i + 8]) + "\n")
