"""A plain NumPy replay of the authors' 2025 GA, timed side by side with `debinn grid --replay`.

Usage::

    python experiments/numpy_peer.py EXECUTION_FOLDER --data FOLD [--only S1,S2,...]
        [--rules msvc] [--out experiments/results/numpy_peer]

The peer is what a careful NumPy programmer would write: one Python loop over the generations,
the population's forward pass vectorised over individuals with ``einsum`` (float64, the
authors' gene order, their splits and random streams from the library's host-side helpers,
which are NumPy already), the hall of fame, tolerance, early stopping and final selection as in
DEBINN-2025 section 7. For every setting it runs the peer and the library's replay
(``debinn_jax.execution.run_grid(..., replay=...)``, the same rows in one grid call) and prints
and writes (``peer.md``, ``peer.json``) each one's seconds per row, the stop iteration, the
final candidate and the test balanced accuracy of both, so that the speed-up and the agreement
of the two implementations are read off the same run. The peer runs on one core (BLAS limited
to one thread); the library as it runs by default on this machine.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

A, RHO, EPS = 0.8920620580763856, 0.4, float(np.finfo(np.float64).eps)


# --------------------------------------------------------------------------------------------
# the network, vectorised over a population of genomes in the authors' gene order


def layout(sizes: tuple[int, ...], groups: tuple[int, ...], ss: bool) -> dict:
    """Where each layer's points (and scale/shift genes) sit in an authors' genome."""
    out, pos = {"scale": [], "shift": []}, 0
    if ss:  # one (scale, shift) pair per group of every non-input layer (groups has them all)
        for g in groups:
            idx = pos + 2 * np.arange(g)
            out["scale"].append(idx)
            out["shift"].append(idx + 1)
            pos += 2 * g
    n_in = sizes[0]
    out["axon"] = [np.arange(pos, pos + 3 * n_in).reshape(n_in, 3)]
    out["soma"] = [None]
    pos += 3 * n_in
    for n in sizes[1:-1]:
        block = np.arange(pos, pos + 6 * n).reshape(n, 6)
        out["soma"].append(block[:, :3])
        out["axon"].append(block[:, 3:])
        pos += 6 * n
    k = sizes[-1]
    out["soma"].append(np.arange(pos, pos + 3 * k).reshape(k, 3))
    out["length"] = pos + 3 * k
    return out


def group_blocks(n: int, g: int) -> list[slice]:
    g = max(1, min(g, n))
    size = n // g
    return [slice(i * size, n if i == g - 1 else (i + 1) * size) for i in range(g)]


def forward(genomes: np.ndarray, net: dict, X: np.ndarray) -> tuple[np.ndarray, list, list]:
    """``(P, G)`` genomes, ``(N, F)`` inputs -> log-probabilities ``(P, N, K)``, the weights
    and the spatial-dropout masks per layer (``(P, n_in, n_out)``)."""
    lay, sw = net["layout"], net["switches"]
    P = genomes.shape[0]
    L = len(net["sizes"]) - 1
    weights, keeps = [], []
    h = np.broadcast_to(X, (P, *X.shape))
    for l in range(1, L + 1):
        axon = genomes[:, lay["axon"][l - 1]]  # (P, n_in, 3)
        soma = genomes[:, lay["soma"][l]]  # (P, n_out, 3)
        d2 = np.square(axon[:, :, None, :] - soma[:, None, :, :]).sum(-1)
        w = A * np.exp(-RHO * d2)
        keep = np.ones(d2.shape, bool)
        if sw["sd"]:
            flat = d2.reshape(P, -1)
            thr = np.sort(flat, axis=1)[:, flat.shape[1] // 2]
            keep = d2 <= thr[:, None, None]
        if sw["ws"]:
            n = keep.sum(axis=(1, 2), keepdims=True)
            m = (w * keep).sum(axis=(1, 2), keepdims=True) / n
            sd = np.sqrt((np.square(w - m) * keep).sum(axis=(1, 2), keepdims=True) / (n + EPS))
            equal = np.where(keep, w, -np.inf).max(axis=(1, 2), keepdims=True) == np.where(
                keep, w, np.inf
            ).min(axis=(1, 2), keepdims=True)
            with np.errstate(invalid="ignore", divide="ignore"):
                w = np.where(equal, 1.0, (w - m) / sd)
        w = np.where(keep, w, 0.0)
        weights.append(w)
        keeps.append(keep)
        z = np.einsum("pni,pij->pnj", h, w)
        if l == L:
            break
        a = np.where(z >= 0, z, 0.01 * z)
        if sw["gn"]:
            out = np.empty_like(a)
            for gi, sl in enumerate(group_blocks(a.shape[2], net["groups"][l - 1])):
                part = a[:, :, sl]
                mu = part.mean(axis=2, keepdims=True)
                s = np.sqrt(np.square(part - mu).sum(axis=2, keepdims=True) / (part.shape[2] + EPS))
                v = (part - mu) / (s + EPS)
                if net["ss"]:
                    v = (
                        genomes[:, lay["scale"][l - 1][gi]][:, None, None] * v
                        + genomes[:, lay["shift"][l - 1][gi]][:, None, None]
                    )
                out[:, :, sl] = v
            a = out
        h = a
    s = z / (np.abs(z).sum(axis=2, keepdims=True) + EPS)
    p = np.exp(s) / (np.exp(s).sum(axis=2, keepdims=True) + EPS)
    logp = np.where(p < EPS, -20.0, np.log(p))
    return logp, weights, keeps


def fitness(genomes: np.ndarray, net: dict, X: np.ndarray, y: np.ndarray, parts: np.ndarray):
    """``(P, M)`` fitness F (loss + penalty) of every genome on every part ``(M, N)``."""
    logp, weights, keeps = forward(genomes, net, X)
    t = -np.take_along_axis(logp, y[None, :, None], axis=2)[:, :, 0]  # (P, N) true-class terms
    k = logp.shape[2]
    onehot = np.eye(k)[y]  # (N, K)
    counts = parts @ onehot  # (M, K)
    cw = 1.0 - counts / parts.sum(axis=1, keepdims=True)
    coef = parts * cw[:, y] / parts.sum(axis=1, keepdims=True)  # (M, N)
    loss = t @ coef.T
    pen = 0.0
    l1, l2 = net["l1"], net["l2"]
    if l1 > EPS or l2 > EPS:
        flat = np.concatenate([w.reshape(w.shape[0], -1) for w in weights], axis=1)
        kept = np.concatenate([m.reshape(m.shape[0], -1) for m in keeps], axis=1)
        n = kept.sum(axis=1)
        pen = np.zeros(genomes.shape[0])
        if l1 > EPS:
            pen = pen + l1 * (np.abs(flat) * kept).sum(axis=1) / n
        if l2 > EPS:
            pen = pen + l2 * (np.square(flat) * kept).sum(axis=1) / n
        pen = pen[:, None]
    return loss + pen


def split_means(f: np.ndarray, s: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean train / validation fitness over the ``s`` splits, summed in split order."""
    train = np.zeros(f.shape[0])
    val = np.zeros(f.shape[0])
    for j in range(s):
        train = train + f[:, j]
        val = val + f[:, s + j]
    return train / s, val / s


# --------------------------------------------------------------------------------------------
# the GA (DEBINN-2025 section 7)


def replay(net: dict, X: np.ndarray, y: np.ndarray, keys, cfg, rules: str) -> dict:
    from debinn_jax.data.splits import authors_splits, leave_out_ratios
    from debinn_jax.ga.replay import ReplayStreams, StreamSettings

    P, T, B, TC = cfg.population_size, cfg.generations, cfg.beat_period, cfg.tournament_size
    G = net["layout"]["length"]
    streams = ReplayStreams(
        StreamSettings(rules, P, T, TC, B, G, cfg.r_max, cfg.r_min, cfg.mutation_prob)
    )
    k = int(y.max()) + 1
    ratios = leave_out_ratios(*cfg.leave_out)
    tr, va = authors_splits(keys, y, k, ratios, cfg.splits_per_ratio, 0, rules)
    ftr, fva = authors_splits(keys, y, k, ratios, cfg.splits_per_ratio, T + 1, rules)
    parts = np.concatenate([tr, va]).astype(np.float64)
    s = tr.shape[0]
    pop = np.zeros((P, G))
    if net["ss"]:
        for idx in net["layout"]["scale"]:
            pop[:, idx] = 1.0
    ids = np.arange(P)
    T_fit, V_fit = split_means(fitness(pop, net, X, y, parts), s)
    tol = float(np.min(np.abs(V_fit - T_fit)))
    hof = [(V_fit[0], T_fit[0], pop[0].copy(), 0)]  # (V, T, genome, id), sorted by V
    last = 0
    i = 0
    while i < T:
        order = np.argsort(T_fit, kind="stable")
        pop, T_fit, V_fit, ids = pop[order], T_fit[order], V_fit[order], ids[order]
        hof = hof[:P]
        if i - last > cfg.early_stopping:
            break
        it = streams.iteration(i)
        alpha0 = min(h[0] for h in hof)
        r1, r2 = it["ranks"][:, 0], it["ranks"][:, 1]
        child = np.where(it["take_first"], pop[r1], pop[r2]) + it["delta"]
        t_new, v_new = split_means(fitness(child, net, X, y, parts), s)
        new_ids = P * (i + 1) + np.arange(P)
        entered = [j for j in range(P) if v_new[j] < alpha0 and abs(v_new[j] - t_new[j]) < tol]
        for j in entered:  # after existing equal keys, in offspring order
            pos = next((q for q, h in enumerate(hof) if h[0] > v_new[j]), len(hof))
            hof.insert(pos, (v_new[j], t_new[j], child[j].copy(), new_ids[j]))
        if entered:
            mv = sum(v_new[j] for j in entered) / len(entered)
            mt = sum(t_new[j] for j in entered) / len(entered)
            tol = (tol + abs(mv - mt)) / 2.0
            last = i
        pop, T_fit, V_fit, ids = child, t_new, v_new, new_ids
        i += 1
    order = np.argsort(T_fit, kind="stable")[: max(1, P // 10)]
    cands = [(pop[o], ids[o]) for o in order]
    seen = {c[1] for c in cands}
    cands += [(h[2], h[3]) for h in hof if h[3] not in seen]
    genomes = np.stack([c[0] for c in cands])
    fparts = np.concatenate([ftr, fva]).astype(np.float64)
    _, score = split_means(fitness(genomes, net, X, y, fparts), s)
    best = int(np.argmin(score))
    return {"genome": genomes[best], "stop": i, "last_entry": last, "candidate": best}


def network_of(run) -> dict:
    spec, cfg = run.spec, run.config
    sizes = spec.layer_sizes
    groups = spec.group_counts()
    return {
        "sizes": sizes,
        "groups": groups,
        "ss": spec.shift_scale,
        "layout": layout(sizes, groups, spec.shift_scale),
        "switches": {
            "ws": bool(run.switches["standardize_weights"]),
            "gn": bool(run.switches["normalization"]),
            "sd": bool(run.switches["spatial_dropout"]),
        },
        "l1": cfg.loss.l1,
        "l2": cfg.loss.l2,
    }


def test_bacc(net: dict, genome: np.ndarray, fold) -> float:
    logp, _, _ = forward(genome[None], net, np.asarray(fold.test.X, np.float64))
    pred = np.argmax(logp[0], axis=1)
    y = np.asarray(fold.test.y)
    return float(np.mean([np.mean(pred[y == c] == c) for c in np.unique(y)]))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("settings")
    ap.add_argument("--data", required=True)
    ap.add_argument("--only", help="comma-separated S numbers or column names")
    ap.add_argument("--rules", default="msvc", choices=("msvc", "libstdc++"))
    ap.add_argument("--out", default="experiments/results/numpy_peer")
    args = ap.parse_args()

    import jax

    import debinn_jax as dj
    from debinn_jax.execution import precision, read_execution_settings, run_grid

    fold = dj.load_fold(args.data, class_order="string")
    settings = read_execution_settings(args.settings)
    runs = dj.grid_runs(settings, fold.n_features, fold.n_classes)
    if args.only:
        wanted = {w if "-" in w else w for w in args.only.split(",")}
        runs = [r for r in runs if r.name in wanted or r.name.split("-")[-1] in wanted]
    X = np.asarray(fold.train.X, np.float64)
    y = np.asarray(fold.train.y)
    rows = []
    t0 = time.perf_counter()
    with precision("float64"):
        lib = run_grid(runs, [(Path(args.data).name, fold)], replay=args.rules)
    lib_seconds = time.perf_counter() - t0
    by_name = {r["name"]: r for r in lib.records}
    for run in runs:
        net = network_of(run)
        cfg = run.config.resolve(run.spec)
        t = time.perf_counter()
        out = replay(net, X, y, fold.train.keys, cfg, args.rules)
        seconds = time.perf_counter() - t
        ours = by_name[run.name]
        row = {
            "name": run.name,
            "numpy_seconds": seconds,
            "numpy_stop": out["stop"],
            "numpy_candidate": out["candidate"],
            "numpy_test_bacc": test_bacc(net, out["genome"], fold),
            "library_stop": ours.get("stop_iteration"),
            "library_candidate": ours.get("candidate"),
            "library_test_bacc": ours["test"]["BACC"],
        }
        row["agree"] = (
            row["numpy_stop"] == row["library_stop"]
            and row["numpy_candidate"] == row["library_candidate"]
            and math.isclose(row["numpy_test_bacc"], row["library_test_bacc"], abs_tol=1e-12)
        )
        rows.append(row)
        print(
            f"{run.name}: numpy {seconds:.1f} s, stop {out['stop']}, candidate "
            f"{out['candidate']}; library stop {row['library_stop']}, candidate "
            f"{row['library_candidate']}; {'same' if row['agree'] else 'DIFFERENT'}",
            flush=True,
        )
    numpy_total = sum(r["numpy_seconds"] for r in rows)
    summary = {
        "rows": len(rows),
        "agree": sum(r["agree"] for r in rows),
        "numpy_seconds": numpy_total,
        "numpy_median_seconds_per_row": float(np.median([r["numpy_seconds"] for r in rows])),
        "library_seconds": lib_seconds,
        "library_compile_seconds": lib.timing.get("compile_seconds"),
        "speedup_total": numpy_total / lib_seconds,
        "jax": jax.__version__,
        "cpus": os.cpu_count(),
    }
    print(json.dumps(summary, indent=1))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "peer.json").write_text(json.dumps({"summary": summary, "rows": rows}, indent=1))
    lines = [
        f"# NumPy peer vs debinn-jax replay ({args.rules}), {len(rows)} rows",
        "",
        f"NumPy {numpy_total:.1f} s (median {summary['numpy_median_seconds_per_row']:.1f} s per "
        f"row, one core); library {lib_seconds:.1f} s for the same rows in one grid call "
        f"({summary['library_compile_seconds']:.1f} s of it compilation): "
        f"{summary['speedup_total']:.1f}x; {summary['agree']} of {len(rows)} rows identical "
        "(stop, candidate, test BACC).",
        "",
        "| setting | numpy s | numpy stop | library stop | numpy cand. | library cand. | same |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['name']} | {r['numpy_seconds']:.1f} | {r['numpy_stop']} | "
            f"{r['library_stop']} | {r['numpy_candidate']} | {r['library_candidate']} | "
            f"{'yes' if r['agree'] else 'no'} |"
        )
    (out / "peer.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
