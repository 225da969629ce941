"""Golden values for eval/bss_eval.c from mir_eval 0.7 separation.bss_eval_sources.

Run: /usr/bin/python3 tests/golden/make_bss_golden.py  ->  tests/golden/bss.txt
The signals are not stored: they are regenerated from a splitmix64 stream by the same
arithmetic in tests/test_bss_eval.c (gen_case), so keep the two in step. Each case stores
its size, a checksum of the signals (so a diverging generator is caught) and the criteria
with compute_permutation False and True."""
import os
import sys
import numpy as np
import mir_eval

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_io  # noqa: E402

MASK = (1 << 64) - 1
NCASES = 14   # 12, 13: short signals (N < 2 flen: G is rank deficient)


class SplitMix64:
    def __init__(self, seed):
        self.x = seed & MASK

    def next(self):
        self.x = (self.x + 0x9E3779B97F4A7C15) & MASK
        z = self.x
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK
        return z ^ (z >> 31)

    def uniform(self):          # [0, 1), 53 bits
        return (self.next() >> 11) * (1.0 / 9007199254740992.0)

    def sym(self):              # [-1, 1)
        return 2.0 * self.uniform() - 1.0


def gen_case(k):
    """Case k: nsrc sources of n samples (float32) and nsrc estimates."""
    r = SplitMix64(1000 + k)
    nsrc = 3 if k >= 10 else 2
    n = 2000 + r.next() % 6001
    if k >= 12:
        n = 300 + 600 * (k - 12)
    refs = []
    for i in range(nsrc):
        a = 0.3 + 0.65 * r.uniform()
        period = 20 + r.next() % 60
        amp = 0.5 * r.uniform() if i % 2 == 1 else 0.0
        y = 0.0
        s = np.zeros(n, dtype=np.float32)
        for t in range(n):
            y = r.sym() + a * y
            sq = amp if (t % period) < period // 2 else -amp
            s[t] = np.float32(y + sq)
        refs.append(s)
    swap = (k % 4 == 3)
    ests = []
    for j in range(nsrc):
        jt = (j + 1) % nsrc if swap else j
        jo = (jt + 1) % nsrc
        g = 0.5 + r.uniform()
        x = 0.3 * r.sym()
        h = 0.2 * r.sym()
        nl = 0.05 + 0.5 * r.uniform()
        d = r.next() % 40
        st, so = refs[jt].astype(np.float64), refs[jo].astype(np.float64)
        e = np.zeros(n, dtype=np.float32)
        for t in range(n):
            v = g * st[t]
            if t >= 2:
                v = v + h * st[t - 2]
            if t >= d:
                v = v + x * so[t - d]
            v = v + nl * r.sym()
            e[t] = np.float32(v)
        ests.append(e)
    return np.array(refs), np.array(ests)


def main():
    rec = {}
    for k in range(NCASES):
        refs, ests = gen_case(k)
        nsrc, n = refs.shape
        rec["case%d_meta" % k] = [nsrc, n]
        rec["case%d_check" % k] = [float(np.sum(refs.astype(np.float64))), float(np.sum(ests.astype(np.float64))),
                                   float(refs[0, 100]), float(ests[-1, n - 1])]
        sdr, sir, sar, _ = mir_eval.separation.bss_eval_sources(refs, ests, compute_permutation=False)
        rec["case%d_sdr" % k] = sdr
        rec["case%d_sir" % k] = sir
        rec["case%d_sar" % k] = sar
        sdr, sir, sar, perm = mir_eval.separation.bss_eval_sources(refs, ests, compute_permutation=True)
        rec["case%d_psdr" % k] = sdr
        rec["case%d_psir" % k] = sir
        rec["case%d_psar" % k] = sar
        rec["case%d_pperm" % k] = perm
        print("case %d: nsrc %d n %d sdr %s perm %s" % (k, nsrc, n, np.round(sdr, 3), perm))
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "bss.txt")
    golden_io.write(out, rec)


if __name__ == "__main__":
    main()
