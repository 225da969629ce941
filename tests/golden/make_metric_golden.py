"""Golden values for eval/transcription.c from mir_eval 0.7 (run with /usr/bin/python3).

Writes tests/golden/metrics_transcription.txt: for case k, records ref_k and est_k
(n x 3: onset s, offset s, MIDI pitch; times are float32-exact so the C test, which
reads float32, sees the same doubles) and res_k = [P, R, F, overlap] with onsets only
(offset_ratio=None), [P, R, F, overlap] with offsets (offset_ratio=0.2, min 0.05), then
frame-level [P, R, F1, accuracy] and the frame rate.

Note level: mir_eval.transcription.precision_recall_f1_overlap with pitches converted by
mir_eval.util.midi_to_hz. Frame level: the numpy reference `frame_scores` below (our
documented convention, not a mir_eval function): binary rolls over 128 MIDI pitches,
pitch p active in frame t when onset <= t/rate < offset, TP/FP/FN counted over all
(frame, pitch) cells, P=TP/(TP+FP), R=TP/(TP+FN), F=2PR/(P+R), Acc=TP/(TP+FP+FN).

Only the note-list goldens live here; the separation goldens are written elsewhere.
"""
import os
import sys

import numpy as np
import mir_eval

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import golden_io  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "metrics_transcription.txt")
rng = np.random.RandomState(20240517)


def f32(x):
    return np.asarray(x, dtype=np.float32).astype(np.float64)


def frame_scores(ref, est, rate):
    """Numpy reference of the frame metric (see module docstring)."""
    ends = [n[1] for n in ref] + [n[1] for n in est]
    if not ends:
        return [0.0, 0.0, 0.0, 0.0]
    T = int(np.ceil(max(ends) * rate)) + 2   # extra empty frames change nothing
    t = np.arange(T) / rate

    def roll(notes):
        R = np.zeros((T, 128), dtype=bool)
        for on, off, p in notes:
            R[:, int(p)] |= (on <= t) & (t < off)
        return R

    R, E = roll(ref), roll(est)
    tp = float(np.sum(R & E)); fp = float(np.sum(E & ~R)); fn = float(np.sum(R & ~E))
    P = tp / (tp + fp) if tp + fp > 0 else 0.0
    Rc = tp / (tp + fn) if tp + fn > 0 else 0.0
    F = 2 * P * Rc / (P + Rc) if P + Rc > 0 else 0.0
    A = tp / (tp + fp + fn) if tp + fp + fn > 0 else 0.0
    return [P, Rc, F, A]


def note_scores(ref, est, offset_ratio):
    ri = np.array([[n[0], n[1]] for n in ref]).reshape(-1, 2)
    ei = np.array([[n[0], n[1]] for n in est]).reshape(-1, 2)
    rp = mir_eval.util.midi_to_hz(np.array([n[2] for n in ref], dtype=float))
    ep = mir_eval.util.midi_to_hz(np.array([n[2] for n in est], dtype=float))
    return list(mir_eval.transcription.precision_recall_f1_overlap(
        ri, rp, ei, ep, onset_tolerance=0.05, pitch_tolerance=50.0,
        offset_ratio=offset_ratio, offset_min_tolerance=0.05))


def make_case(k):
    n_ref = 0 if k in (0, 1) else int(rng.randint(1, 40))
    pitches = np.arange(60, 60 + int(rng.randint(1, 8)))    # few pitches -> duplicates
    ref = []
    for _ in range(n_ref):
        on = rng.uniform(0, 4)
        dur = rng.choice([rng.uniform(0.02, 0.3), rng.uniform(0.3, 2.0)])
        on = float(f32(np.round(on, rng.choice([2, 3, 6]))))
        ref.append([on, float(f32(on + dur)), int(rng.choice(pitches))])
    est = []
    if k != 2:
        for on, off, p in ref:
            r = rng.rand()
            if r < 0.15:
                continue                                   # missed note
            kind = rng.randint(5)
            if kind == 0:
                d_on = rng.choice([-0.05, 0.05, -0.0500499, 0.0500499, 0.05005, -0.05005])
            elif kind == 1:
                d_on = rng.uniform(-0.08, 0.08)
            else:
                d_on = rng.uniform(-0.03, 0.03)
            tol = max(0.2 * (off - on), 0.05)
            kind = rng.randint(4)
            if kind == 0:
                d_off = rng.choice([-1, 1]) * tol * rng.choice([1.0, 0.9999, 1.0001, 1.002])
            elif kind == 1:
                d_off = rng.uniform(-2, 2) * tol
            else:
                d_off = rng.uniform(-0.5, 0.5) * tol
            ep = p + (rng.choice([-1, 1, 12]) if rng.rand() < 0.1 else 0)
            e_on = max(0.0, on + d_on)
            e_off = off + d_off
            if e_off <= e_on:
                e_off = e_on + 0.01
            est.append([float(f32(e_on)), float(f32(e_off)), int(ep)])
            if rng.rand() < 0.1:                           # duplicate estimate
                est.append(list(est[-1]))
        for _ in range(int(rng.randint(0, 6))):            # false alarms
            on = float(f32(rng.uniform(0, 4)))
            est.append([on, float(f32(on + rng.uniform(0.03, 1.0))), int(rng.choice(pitches))])
        rng.shuffle(est)
    if k == 3:
        est = []
    rate = float(rng.choice([100.0, 100.0, 31.25, 50.0]))
    res = note_scores(ref, est, None) + note_scores(ref, est, 0.2) + frame_scores(ref, est, rate) + [rate]
    return ref, est, res


def main():
    recs = {}
    N = 64
    for k in range(N):
        ref, est, res = make_case(k)
        recs["ref_%d" % k] = np.array(ref, dtype=np.float64).reshape(-1, 3)
        recs["est_%d" % k] = np.array(est, dtype=np.float64).reshape(-1, 3)
        recs["res_%d" % k] = np.array(res)
    recs["ncases"] = np.array([N])
    golden_io.write(OUT, recs)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
