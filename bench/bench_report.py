#!/usr/bin/python3
"""bench/bench_report.py: joins the raw outputs of `make bench` (bench/run.sh) into ONE JSON
and a markdown summary with the issue-2 performance targets marked met / not met.

  bench/bench_report.py RAW_DIR OUT_JSON OUT_MD

RAW_DIR holds one JSON object per file, named NAME-tT-rR.json (program NAME at T threads,
interleaved repetition R) or NAME.json (run once): bench_sgemm, bench_conv, bench_lstm,
bench_layers_torch (PyTorch twins of bench_conv / bench_lstm), compare_torch (our
bench_models vs PyTorch's reference bench, same run, interleaved), bench_features,
bench_bss. Repetitions of a program are combined by taking the best of each figure (every
program already reports best-of-R; the host is shared and noisy).

Ceilings: "sgemm ceiling" = the best cblas_sgemm GFLOP/s over bench_sgemm's model shapes at
that thread count. Each op is also measured against the sgemm of its own shapes from the
same program run ("own"): bench_lstm's input-projection sgemm, bench_conv's per-layer GEMMs.
Targets (issue 2): models train >= 1.0x PyTorch's examples/s at 1 thread, >= 1.3x at 2;
LSTM op (training, fwd+bwd) >= 60 % and conv layers (fwd+bwd) >= 50 % of the sgemm at
their own shapes (the fraction of the overall ceiling is shown too). Writes OUT_JSON and
OUT_MD and prints the markdown.
"""
import glob
import json
import os
import re
import sys
import time

LSTM_TARGET, CONV_TARGET = 0.60, 0.50
TRAIN_TARGET = {1: 1.0, 2: 1.3}


def load(raw_dir):
    runs = {}   # name -> {threads or None: [results]}
    raw = {}
    for path in sorted(glob.glob(os.path.join(raw_dir, "*.json"))):
        base = os.path.basename(path)[:-5]
        m = re.match(r"(.+?)-t(\d+)-r(\d+)$", base)
        name, t = (m.group(1), int(m.group(2))) if m else (base, None)
        try:
            with open(path) as f:
                d = json.load(f)
        except (OSError, ValueError) as e:
            d = {"error": f"{base}: unreadable JSON ({e})"}
        raw[base] = d
        runs.setdefault(name, {}).setdefault(t, []).append(d)
    return runs, raw


def best(vals):
    vals = [v for v in vals if isinstance(v, (int, float))]
    return max(vals) if vals else None


def ok(d):
    return isinstance(d, dict) and "skipped" not in d and "error" not in d


def combine(runs, threads):
    out = {}
    sg = [d for d in runs.get("bench_sgemm", {}).get(threads, []) if ok(d)]
    if sg:
        shapes = {}
        for d in sg:
            for s in d["shapes"]:
                shapes[s["name"]] = max(shapes.get(s["name"], 0.0), s["gflops"])
        top = max(shapes, key=shapes.get)
        out["sgemm"] = {"ceiling_gflops": shapes[top], "ceiling_shape": top, "shapes": shapes}
    ceiling = out.get("sgemm", {}).get("ceiling_gflops")

    tl = [d for d in runs.get("bench_layers_torch", {}).get(threads, []) if ok(d)]
    ls = [d for d in runs.get("bench_lstm", {}).get(threads, []) if ok(d)]
    if ls:
        o = {k: best([d.get(k) for d in ls]) for k in
             ("train_gflops", "infer_gflops", "sgemm_gflops", "gemm_only_train_gflops",
              "gemm_only_infer_gflops", "no_split_train_gflops", "no_split_infer_gflops",
              "train_sequences_per_s")}
        o["train_ms"] = min(d["train_ms"] for d in ls)
        o["infer_ms"] = min(d["infer_ms"] for d in ls)
        o["train_frac_own_sgemm"] = o["train_gflops"] / o["sgemm_gflops"]
        o["infer_frac_own_sgemm"] = o["infer_gflops"] / o["sgemm_gflops"]
        if ceiling:
            o["train_frac_ceiling"] = o["train_gflops"] / ceiling
        lstm = {"ours": o, "target_frac": LSTM_TARGET,
                "target_met": o["train_frac_own_sgemm"] >= LSTM_TARGET}
        tls = [d["lstm"] for d in tl if "lstm" in d]
        if tls:
            p = {k: best([d[k] for d in tls]) for k in
                 ("train_gflops", "infer_gflops", "train_sequences_per_s")}
            p["train_ms"] = min(d["train_ms"] for d in tls)
            p["infer_ms"] = min(d["infer_ms"] for d in tls)
            p["others_cpus"] = [d.get("others_cpus") for d in tls]
            lstm["torch"] = p
            lstm["train_ratio_vs_torch"] = o["train_gflops"] / p["train_gflops"]
            lstm["infer_ratio_vs_torch"] = o["infer_gflops"] / p["infer_gflops"]
        out["lstm"] = lstm

    cv = [d for d in runs.get("bench_conv", {}).get(threads, []) if ok(d)]
    if cv:
        tconv = {}
        for d in tl:
            for L in d.get("conv", {}).get("layers", []):
                k = (L["model"], L["layer"])
                tconv[k] = max(tconv.get(k, 0.0), L["conv_gflops"])
        layers, tot = [], {}
        for i, L in enumerate(cv[0]["layers"]):
            same = [d["layers"][i] for d in cv if len(d["layers"]) > i]
            g = best([x["conv_gflops"] for x in same])
            s = best([x["sgemm_gflops"] for x in same])
            row = {"model": L["model"], "layer": L["layer"], "gflop": L["gflop"],
                   "gemm_MxNxK": L["gemm_MxNxK"], "ours_gflops": g, "own_sgemm_gflops": s,
                   "frac_own_sgemm": g / s,
                   "frac_ceiling": g / ceiling if ceiling else None,
                   "target_met": g / s >= CONV_TARGET}
            k = (L["model"], L["layer"])
            if k in tconv:
                row["torch_gflops"] = tconv[k]
                row["ratio_vs_torch"] = g / tconv[k]
            layers.append(row)
            t = tot.setdefault(L["model"], {"gflop": 0.0, "ours_s": 0.0, "sgemm_s": 0.0,
                                            "torch_s": 0.0, "torch_all": True})
            t["gflop"] += L["gflop"]
            t["ours_s"] += L["gflop"] / g
            t["sgemm_s"] += L["gflop"] / s
            if k in tconv:
                t["torch_s"] += L["gflop"] / tconv[k]
            else:
                t["torch_all"] = False
        totals = {}
        for m, t in tot.items():
            r = {"gflop": t["gflop"], "ours_gflops": t["gflop"] / t["ours_s"],
                 "own_sgemm_gflops": t["gflop"] / t["sgemm_s"]}
            r["frac_own_sgemm"] = r["ours_gflops"] / r["own_sgemm_gflops"]
            if ceiling:
                r["frac_ceiling"] = r["ours_gflops"] / ceiling
            if t["torch_all"]:
                r["torch_gflops"] = t["gflop"] / t["torch_s"]
                r["ratio_vs_torch"] = r["ours_gflops"] / r["torch_gflops"]
            totals[m] = r
        out["conv"] = {"target_frac": CONV_TARGET,
                       "torch_others_cpus": [d.get("conv", {}).get("others_cpus") for d in tl], "layers": layers, "totals": totals,
                       "layers_meeting_target": sum(r["target_met"] for r in layers),
                       "n_layers": len(layers)}

    ct = runs.get("compare_torch", {}).get(None, [])
    if ct and ok(ct[0]):
        out["models"] = [r for r in ct[0]["results"] if r["threads"] == threads]
    return out


def f(v, fmt="{:.1f}"):
    return "n/a" if v is None else fmt.format(v)


def pct(v):
    return "n/a" if v is None else f"{100 * v:.0f}%"


def yn(b):
    return "n/a" if b is None else ("**met**" if b else "NOT met")


def markdown(rep):
    T = rep["by_threads"]
    ts = sorted(T, key=int)
    md = [f"## make bench, {rep['date']} (shared 2-vCPU host, noisy: compare ratios within "
          f"this run only)", ""]
    md += ["| threads | sgemm ceiling GFLOP/s (shape) | LSTM train GFLOP/s ours / torch "
           "(ours/torch) | LSTM train % own sgemm / % ceiling | LSTM infer ours / torch | "
           "conv totals cls, trn: % own sgemm | conv cls ours/torch | conv trn ours/torch |",
           "|---|---|---|---|---|---|---|---|"]
    for t in ts:
        d = T[t]
        sg, ls, cv = d.get("sgemm", {}), d.get("lstm", {}), d.get("conv", {})
        lo, lt = ls.get("ours", {}), ls.get("torch", {})
        tot = cv.get("totals", {})
        md.append(
            f"| {t} | {f(sg.get('ceiling_gflops'))} ({sg.get('ceiling_shape', 'n/a')}) | "
            f"{f(lo.get('train_gflops'))} / {f(lt.get('train_gflops'))} "
            f"({f(ls.get('train_ratio_vs_torch'), '{:.2f}x')}) | "
            f"{pct(lo.get('train_frac_own_sgemm'))} / {pct(lo.get('train_frac_ceiling'))} | "
            f"{f(lo.get('infer_gflops'))} / {f(lt.get('infer_gflops'))} | "
            f"{pct(tot.get('classifier', {}).get('frac_own_sgemm'))}, "
            f"{pct(tot.get('transcriber', {}).get('frac_own_sgemm'))} | "
            f"{f(tot.get('classifier', {}).get('ratio_vs_torch'), '{:.2f}x')} | "
            f"{f(tot.get('transcriber', {}).get('ratio_vs_torch'), '{:.2f}x')} |")
    md += ["", "Conv layers, forward+backward GFLOP/s: ours (% of the sgemm at the layer's "
           "own GEMMs, % of the ceiling) / PyTorch = ours/torch", ""]
    hdr = "| layer |" + "".join(f" {t} thread(s) |" for t in ts)
    md += [hdr, "|---|" + "---|" * len(ts)]
    first = next((T[t]["conv"]["layers"] for t in ts if "conv" in T[t]), [])
    for i, L in enumerate(first):
        cells = []
        for t in ts:
            rows = T[t].get("conv", {}).get("layers", [])
            if i >= len(rows):
                cells.append("n/a")
                continue
            r = rows[i]
            cells.append(f"{r['ours_gflops']:.1f} ({pct(r['frac_own_sgemm'])}, "
                         f"{pct(r['frac_ceiling'])}) / {f(r.get('torch_gflops'))} = "
                         f"{f(r.get('ratio_vs_torch'), '{:.2f}x')}")
        md.append(f"| {L['model']} {L['layer']} |" + "".join(f" {c} |" for c in cells))
    md += ["", "Reference models, examples/s (median of the interleaved repeats; PyTorch = "
           "bench.py's 'malloc' variant; others' CPUs = CPU other tenants of the shared "
           "kernel used during the child, 0 = quiet, 1 = a core taken)", "",
           "| model | thr | train ours | train torch | train ratio | target | | infer ours | "
           "infer torch | infer ratio | ours train with OMP_WAIT_POLICY=passive | "
           "others' CPUs (max) ours / torch |",
           "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for t in ts:
        for r in T[t].get("models", []):
            pas = r.get("ours_passive_train_ex_per_s")
            md.append(
                f"| {r['model']} | {t} | {r['ours_train_ex_per_s']:.1f} | "
                f"{r['torch_train_ex_per_s']:.1f} | {r['train_ratio']:.2f}x | "
                f">= {r['train_target']:.1f}x | {yn(r['train_target_met'])} | "
                f"{r['ours_infer_ex_per_s']:.1f} | {r['torch_infer_ex_per_s']:.1f} | "
                f"{r['infer_ratio']:.2f}x | "
                + (f"{pas:.1f} ({r['passive_vs_default_train']:.2f}x default)" if pas else "-")
                + f" | {f(best(r.get('others_cpus_ours', [])), '{:.2f}')} / "
                f"{f(best(r.get('others_cpus_torch', [])), '{:.2f}')} |")
    md += ["", "Issue-2 targets", "", "| target | threads | measured | status |",
           "|---|---|---|---|"]
    for g in rep["targets"]:
        md.append(f"| {g['target']} | {g['threads']} | {g['measured']} | {yn(g['met'])} |")
    ex = rep.get("features")
    if ok(ex):
        md += ["", "Features (1 thread, x real time): " + ", ".join(
            f"{rate} Hz all_three {v.get('all_three_xrt', 'n/a')}x"
            for rate, v in ex.items() if isinstance(v, dict))]
    b = rep.get("bss")
    if ok(b):
        md += ["", f"BSS Eval 10 s 2 sources: ours {b.get('ours_s')} s, mir_eval "
               f"{b.get('mir_eval_s', 'n/a')} s, speed-up {b.get('speedup', 'n/a')}x"]
    inf = rep.get("infer")
    if ok(inf):
        o1, o2, m, bp = (inf.get(k) or {} for k in ("ours_t1", "ours_t2", "ours_memory",
                                                   "basic_pitch_t1"))
        bpt = (f"{bp['x_real_time']}x ({bp.get('x_real_time_cpu', 'n/a')}x)"
               if ok(bp) else f"n/a ({bp.get('skipped', bp.get('error', 'missing'))})")
        md += ["", f"Inference (bench/bench_infer.sh, {o1.get('audio_s')} s piano, transcribe "
               f"stage, x real time wall (CPU-time)): ours 1 thread {o1.get('x_real_time')}x "
               f"({o1.get('x_real_time_cpu')}x), 2 threads {o2.get('x_real_time')}x; Basic Pitch "
               f"1 thread {bpt}; ours/Basic Pitch {f(inf.get('speed_ratio_t1'), '{:.2f}x')} "
               f"({f(inf.get('speed_ratio_t1_cpu'), '{:.2f}x')}); peak memory "
               f"{m.get('peak_rss_mb', m.get('self_reported_peak_mb'))} MB on "
               f"{m.get('audio_s')} s (Basic Pitch {bp.get('peak_rss_mb', 'n/a')} MB on "
               f"{bp.get('audio_s', 'n/a')} s)"]
    return "\n".join(md) + "\n"


def targets(by):
    out = []
    for t, d in sorted(by.items(), key=lambda kv: int(kv[0])):
        for r in d.get("models", []):
            out.append({"target": f"{r['model']} train >= {r['train_target']:.1f}x PyTorch",
                        "threads": int(t), "measured": f"{r['train_ratio']:.2f}x",
                        "met": r["train_target_met"]})
        ls = d.get("lstm")
        if ls:
            out.append({"target": f"LSTM op train >= {100 * LSTM_TARGET:.0f}% of sgemm",
                        "threads": int(t),
                        "measured": f"{pct(ls['ours']['train_frac_own_sgemm'])} of own "
                                    f"({pct(ls['ours'].get('train_frac_ceiling'))} of ceiling)",
                        "met": ls["target_met"]})
        cv = d.get("conv")
        if cv:
            worst = min(cv["layers"], key=lambda r: r["frac_own_sgemm"])
            out.append({"target": f"conv layers >= {100 * CONV_TARGET:.0f}% of sgemm",
                        "threads": int(t),
                        "measured": f"{cv['layers_meeting_target']}/{cv['n_layers']} layers; "
                                    f"worst {worst['layer']} ({worst['model']}) "
                                    f"{pct(worst['frac_own_sgemm'])}",
                        "met": cv["layers_meeting_target"] == cv["n_layers"]})
    return out


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: bench_report.py RAW_DIR OUT_JSON OUT_MD\n")
        return 2
    raw_dir, out_json, out_md = sys.argv[1:]
    runs, raw = load(raw_dir)
    threads = sorted({t for r in runs.values() for t in r if t is not None})
    by = {str(t): combine(runs, t) for t in threads}
    rep = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "by_threads": by}
    settings = os.environ.get("AMT_BENCH_SETTINGS")
    if settings:
        rep["settings"] = settings
    for name, key in (("bench_features", "features"), ("bench_bss", "bss"),
                      ("bench_infer", "infer")):
        if runs.get(name, {}).get(None):
            rep[key] = runs[name][None][0]
    if settings:
        rep["host_note"] = ("shared 2-vCPU host used by several engineers at once: absolute "
                            "numbers are noisy, compare ratios from this run only")
    rep["targets"] = targets(by)
    rep["raw"] = raw
    with open(out_json, "w") as fo:
        json.dump(rep, fo, indent=1)
    md = markdown(rep)
    with open(out_md, "w") as fo:
        fo.write(md)
    sys.stdout.write(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
