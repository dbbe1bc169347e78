"""What a grid cost: FLOPs of its work (counted from the network), wall time by phase, a
measured matmul peak, and the compute floor that follows.

The FLOP count (:func:`individual_flops`, :func:`population_flops`, :func:`run_flops`) is
analytic: one population evaluation of the 2025 GA is one forward pass of every individual
on all N training cases, scored under M sample masks (the leave-out splits' train and
validation parts). Every element-wise operation, reduction step and transcendental (exp, log,
sqrt) counts as one FLOP, a matmul ``(a, b) @ (b, c)`` as ``2 a b c``. With ``C`` the
connections (sum over layers of ``n_in n_out``), ``H`` the hidden neurons, ``G`` the hidden
groups, ``K`` the classes and the run's switches ws (weight standardisation), sd (spatial
dropout), gn (group normalisation), ss (shift-scale, acting only with gn), one individual costs::

    C (8 + 3 + 4 + 11 ws + (2 b + 4 + 4 d) sd)
                                             distance 8, kernel A exp(-rho d^2) 3, L1/L2 4,
                                             standardisation 11, spatial dropout's median
                                             search 2 b (b = 32: at most 32 bisection passes
                                             of a compare and a count on the lengths' float32
                                             bits; the loop stops earlier when one value is
                                             left, this count takes 32), mask and kept means 4,
                                             and in float64 (d = 1) rounding to float32 and
                                             the tie test 4
    + 2 C N                                  the matmuls, 2 n_in n_out N per layer
    + H N (3 + (5 + 2 ss) gn) + 4 G N gn     leaky ReLU 3; group normalisation 5 per
                                             activation (mean, deviation, square, sum, divide),
                                             scale and shift 2, per group and case 4
    + 12 K N                                 head (|z| sum and divide 3), log-softmax 6,
                                             loss terms 3
    + M N (2 K + 2)                          per mask: class-weighted sum 2 K, mask, sum

and a population of P adds, once, the masks' class counts ``M N (2 K + 1)``.
The GA's own operators (selection, mutation, hall of fame: O(P x genes)) are not counted.
XLA's cost analysis of the same evaluation (:func:`xla_population_flops`: ``cost_analysis()``
of the compiled population loss, flops + transcendentals) agrees within 2 % with the switches
off on the grids' networks (DLBCL 17-85-64-2 and 17-34-34-34-2, HECKTOR-LITE 36-180-2; float64,
P = 4); on small networks (17-24-16-2, 36-40-2), where the masks' terms weigh more, this count
is 4-6 % higher. With weight standardisation and group normalisation on, XLA counts 6-18 %
more: its fusions recompute cheap element-wise producers (activations, deviations, weights)
inside every fusion that reads them, work done twice that this count (the work the math
needs) leaves out. XLA counts a loop body once, so it cannot see the median search of spatial
dropout; this count can (on DLBCL, N = 41, it is 72 operations per connection against the
matmuls' 82).

:func:`matmul_peak` measures the GFLOP/s of a square ``jnp.matmul`` in the current precision;
:func:`cost_report` puts the work, the phases of the wall time and the peak together (the
achieved GFLOP/s, the compute floor ``FLOPs / peak`` and the time over it), and
:func:`format_cost` / :func:`cost_markdown` write it for people.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from debinn_jax.execution.translate import GridRun

#: Wall-time phases of a grid, in report order (``waiting``: for runs another process trained).
PHASES = ("compile", "generations", "final", "waiting", "host")


def individual_flops(
    spec: Any, n_samples: int, n_masks: int, switches: Mapping[str, float] | None = None
) -> int:
    """FLOPs to evaluate one individual on ``n_samples`` cases under ``n_masks`` masks (the
    formula of the module docstring).

    Args:
        spec: the network (``NetworkSpec``); its switches are the compiled ones, ``switches``
            (``{"standardize_weights", "normalization", "spatial_dropout"}`` as 0/1) the
            run's, which turn them off (default: the spec's).
        n_samples: N, training cases.
        n_masks: M, sample masks the forward pass is scored under.
    """
    sizes = spec.layer_sizes
    c = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    h = sum(spec.hidden)
    g = sum(spec.group_counts()[:-1])
    k = spec.n_classes
    n, m = int(n_samples), int(n_masks)
    sw = dict(switches or {})
    ws = bool(spec.standardize_weights and sw.get("standardize_weights", 1))
    sd = bool(spec.spatial_dropout and sw.get("spatial_dropout", 1))
    gn = bool(spec.normalization == "activation" and sw.get("normalization", 1))
    ss = bool(spec.shift_scale)
    per_connection = 8 + 3 + 4 + 11 * ws + (2 * 32 + 4 + 4 * _x64()) * sd
    return (
        c * per_connection
        + 2 * c * n
        + h * n * (3 + (5 + 2 * ss) * gn)
        + 4 * g * n * gn
        + 12 * k * n
        + m * n * (2 * k + 2)
    )


def population_flops(
    spec: Any,
    n_samples: int,
    n_masks: int,
    population: int,
    switches: Mapping[str, float] | None = None,
) -> int:
    """FLOPs of one population evaluation: ``population`` individuals plus the masks' class
    counts, ``M N (2 K + 1)``, computed once (see :func:`individual_flops`)."""
    shared = int(n_masks) * int(n_samples) * (2 * spec.n_classes + 1)
    return population * individual_flops(spec, n_samples, n_masks, switches) + shared


def _x64() -> bool:
    import jax

    return bool(jax.config.jax_enable_x64)


def split_count(run: GridRun, y: Any) -> int:
    """S, the leave-out splits of ``run`` on labels ``y``: ratios x splits per ratio."""
    from debinn_jax.data import leave_out_ratios

    cfg = run.config.resolve(run.spec)
    return len(leave_out_ratios(*cfg.leave_out)) * int(cfg.splits_per_ratio)


def run_flops(run: GridRun, y: Any, generations: int | None = None) -> dict[str, int]:
    """The work of one run on training labels ``y`` ``(N,)``.

    Every generation evaluates the population (P individuals) under the S splits' train and
    validation masks (M = 2 S); the final selection evaluates the hall of fame plus the best
    tenth of the last population (P + max(1, P // 10) candidates) under S fresh validation
    masks.

    Args:
        generations: generations run (default: the run's budget, iterations + 1).

    Returns:
        ``{"generations", "individuals", "generation_flops", "final_individuals",
        "final_flops"}``: ``generation_flops`` over all generations.
    """
    cfg = run.config.resolve(run.spec)
    n = len(y)
    s = split_count(run, y)
    p = int(cfg.population_size)
    g = int(cfg.generations if generations is None else generations)
    candidates = p + max(1, p // 10)
    per_gen = population_flops(run.spec, n, 2 * s, p, run.switches)
    return {
        "generations": g,
        "individuals": g * p,
        "generation_flops": g * per_gen,
        "final_individuals": candidates,
        "final_flops": population_flops(run.spec, n, s, candidates, run.switches),
    }


def xla_population_flops(run: GridRun, n_samples: int, n_masks: int, population: int) -> float:
    """XLA's own count of one population evaluation of ``run`` (flops + transcendentals of
    ``jax.jit(population_loss).lower(...).compile().cost_analysis()``), for checking
    :func:`population_flops`: the run's network with its switches fixed, the whole population
    in one ``vmap``, traced L1/L2 lambdas as in the GA. XLA counts a loop body once (the
    median search of spatial dropout is a loop)."""
    import jax
    import jax.numpy as jnp

    from debinn_jax.loss import population_loss
    from debinn_jax.network import init_coords

    spec = run.spec
    keys = jax.random.split(jax.random.key(0), population)
    pop = jax.vmap(lambda k: init_coords(k, spec))(keys)
    x = jnp.zeros((n_samples, spec.n_inputs))  # samples first
    y = jnp.arange(n_samples) % spec.n_classes
    masks = jnp.ones((n_masks, n_samples))
    loss = run.config.resolve(spec).loss

    def evaluate(pop: Any, l1: Any, l2: Any) -> Any:
        return population_loss(spec, pop, x, y, masks, loss, None, l1=l1, l2=l2)

    dtype = jnp.zeros(()).dtype
    lam = jnp.asarray(0.01, dtype)
    cost = jax.jit(evaluate).lower(pop, lam, lam).compile().cost_analysis()
    if isinstance(cost, list):  # older jax: one dict per device program
        cost = cost[0]
    return float(cost.get("flops", 0.0)) + float(cost.get("transcendentals", 0.0))


def matmul_peak(
    n: int | None = None, repeats: int = 3, min_seconds: float = 0.05, max_n: int = 8192
) -> dict[str, Any]:
    """Measured GFLOP/s of ``jnp.matmul`` of two square matrices in the current precision.

    ``n`` None: start at 256 and double until one product takes ``min_seconds`` (or
    ``max_n``), so the figure is for a product large enough to reach the device's speed.
    Best of ``repeats`` timed calls after a warm-up; compilation not included.

    Returns:
        ``{"gflops", "n", "dtype", "seconds"}`` (``seconds``: the best call).
    """
    import jax
    import jax.numpy as jnp

    dtype = jnp.zeros(()).dtype
    size = 256 if n is None else int(n)
    while True:
        a = jax.random.normal(jax.random.key(0), (size, size), dtype)
        f = jax.jit(jnp.matmul).lower(a, a).compile()
        jax.block_until_ready(f(a, a))
        best = math.inf
        for _ in range(max(1, repeats)):
            t0 = time.perf_counter()
            jax.block_until_ready(f(a, a))
            best = min(best, time.perf_counter() - t0)
        if n is not None or best >= min_seconds or size * 2 > max_n:
            break
        size *= 2
    return {"gflops": 2.0 * size**3 / best / 1e9, "n": size, "dtype": str(dtype), "seconds": best}


def work_of(
    runs: Sequence[GridRun],
    records: Sequence[Mapping[str, Any]],
    labels: Mapping[str, Any],
    generations: Mapping[tuple[str, str], int] | None = None,
) -> dict[str, Any]:
    """The work of the trained ``records`` (twins, ``same_run_as``, were not trained and are
    left out): sums of :func:`run_flops` at each record's generations.

    Args:
        runs: the grid's runs (matched to records by name).
        records: records trained in the session.
        labels: fold name -> training labels ``(N,)``.
        generations: ``(column, fold) -> generations run in the session``
            (``GridResult.session_generations``: a batch resumed from its checkpoint ran only
            the rest); default each record's ``generations_run``.
    """
    by_name = {r.name: r for r in runs}
    out = {
        "runs": 0,
        "generations": 0,
        "individuals": 0,
        "final_individuals": 0,
        "generation_flops": 0,
        "final_flops": 0,
    }
    for rec in records:
        if "same_run_as" in rec or rec["name"] not in by_name:
            continue
        g = int(rec["generations_run"])
        if generations is not None:
            g = int(generations.get((rec["name"], rec["fold"]), g))
        w = run_flops(by_name[rec["name"]], labels[rec["fold"]], g)
        out["runs"] += 1
        for key in ("generations", "individuals", "final_individuals"):
            out[key] += w[key]
        for key in ("generation_flops", "final_flops"):
            out[key] += w[key]
    return out


def cost_report(
    work: Mapping[str, Any], phases: Mapping[str, float], wall: float, peak: Mapping[str, Any]
) -> dict[str, Any]:
    """The cost of a session of a grid.

    Args:
        work: from :func:`work_of`.
        phases: seconds of ``compile`` (tracing, lowering, XLA), ``generations`` (the
            compiled generation chunks, compilation excluded), ``final`` (the final selection,
            compilation excluded), ``waiting`` (for runs other processes trained; optional);
            ``host`` is the rest of ``wall``.
        wall: the session's wall time (seconds).
        peak: from :func:`matmul_peak`.

    Returns:
        A JSON-ready dict: ``work``, ``seconds`` (by phase and ``wall``), ``flops`` (total),
        ``achieved_gflops`` (FLOPs of the generations and the final selection over their
        seconds), ``peak``, ``floor_seconds`` (FLOPs / peak) and ``over_floor`` (``wall`` and
        the device phases over the floor), and the ``load_average`` at the end.
    """
    seconds = {k: float(phases.get(k, 0.0)) for k in PHASES[:4]}
    seconds["host"] = max(0.0, wall - sum(seconds.values()))
    seconds["wall"] = float(wall)
    flops = int(work.get("generation_flops", 0)) + int(work.get("final_flops", 0))
    device = seconds["generations"] + seconds["final"]
    floor = flops / (peak["gflops"] * 1e9) if peak.get("gflops") else None
    return {
        "work": dict(work),
        "seconds": seconds,
        "flops": flops,
        "achieved_gflops": flops / device / 1e9 if device > 0 else None,
        "peak": dict(peak),
        "floor_seconds": floor,
        "over_floor": {
            "wall": (wall - seconds["waiting"]) / floor if floor else None,
            "device": device / floor if floor else None,
        },
        "load_average": list(os.getloadavg()),
    }


def total_cost(sessions: Sequence[Mapping[str, Any]]) -> dict[str, Any] | None:
    """The sum of several sessions' :func:`cost_report` s (a grid resumed after an interruption);
    the floor is each session's FLOPs over its own peak. None for no session."""
    if not sessions:
        return None
    work: dict[str, Any] = {}
    seconds: dict[str, float] = {}
    floor = 0.0
    for s in sessions:
        for k, v in s["work"].items():
            work[k] = work.get(k, 0) + v
        for k, v in s["seconds"].items():
            seconds[k] = seconds.get(k, 0.0) + v
        floor += s["floor_seconds"] or 0.0
    flops = sum(int(s["flops"]) for s in sessions)
    device = seconds.get("generations", 0.0) + seconds.get("final", 0.0)
    return {
        "sessions": len(sessions),
        "work": work,
        "seconds": seconds,
        "flops": flops,
        "achieved_gflops": flops / device / 1e9 if device > 0 else None,
        "floor_seconds": floor or None,
        "over_floor": {
            "wall": (seconds.get("wall", 0.0) - seconds.get("waiting", 0.0)) / floor
            if floor
            else None,
            "device": device / floor if floor else None,
        },
    }


def _num(x: float) -> str:
    return f"{x:,.0f}"


def _secs(x: float) -> str:
    if x >= 3600:
        return f"{x / 3600:.1f} h"
    if x >= 100:
        return f"{x / 60:.1f} min"
    if x >= 1 or x == 0:
        return f"{x:.1f} s"
    return f"{x * 1e3:.3g} ms"


def _flop(x: float) -> str:
    """``3.2 MFLOP``, ``12.4 GFLOP``, ``1.30 TFLOP``."""
    for unit, scale in (("PFLOP", 1e15), ("TFLOP", 1e12), ("GFLOP", 1e9), ("MFLOP", 1e6)):
        if x >= scale:
            return f"{x / scale:.3g} {unit}"
    return f"{x:.0f} FLOP"


def format_cost(name: str, report: Mapping[str, Any]) -> list[str]:
    """The cost of one session as printed lines (no indentation)."""
    w, s = report["work"], report["seconds"]
    peak = report["peak"]
    lines = [
        f"cost of {name}: {w['runs']} run{'s' * (w['runs'] != 1)} trained, "
        f"{_num(w['generations'])} generations, "
        f"{_num(w['individuals'] + w['final_individuals'])} individuals evaluated "
        f"({_num(w['final_individuals'])} of them in the final selections)",
        f"  wall {_secs(s['wall'])}: compilation {_secs(s['compile'])}, generations "
        f"{_secs(s['generations'])}, final selection {_secs(s['final'])}, host "
        f"{_secs(s['host'])}"
        + (f", waiting for other processes {_secs(s['waiting'])}" if s.get("waiting") else ""),
    ]
    if not w["runs"]:
        return [*lines, "  nothing trained in this session: no speed figures"]
    achieved = report["achieved_gflops"]
    lines.append(
        f"  work {_flop(report['flops'])} (analytic count); achieved "
        f"{achieved:.3g} GFLOP/s in the generations and final selection; matmul peak "
        f"{peak['gflops']:.1f} GFLOP/s ({peak['dtype']}, n={peak['n']}, measured now, load "
        f"{report['load_average'][0]:.2f})"
        if achieved is not None
        else f"  work {_flop(report['flops'])} (analytic count)"
    )
    floor = report["floor_seconds"]
    if floor:
        over = report["over_floor"]
        lines.append(
            f"  compute floor {_secs(floor)} (work / peak); the wall time (waits excluded) is "
            f"{over['wall']:,.1f}x the floor, the generations and final selection "
            f"{over['device']:,.1f}x"
        )
    return lines


def cost_markdown(name: str, report: Mapping[str, Any], total: Mapping[str, Any] | None) -> str:
    """``cost.md`` of a grid: this session as in :func:`format_cost`, and the sum over its
    sessions when there were several."""
    lines = [f"# Cost of {name}", "", "Latest session:", "", "```"]
    lines += format_cost(name, report)
    lines += ["```", ""]
    if total is not None and total["sessions"] > 1:
        s = total["seconds"]
        lines += [
            f"All {total['sessions']} sessions: {total['work']['runs']} runs trained, "
            f"{_num(total['work']['generations'])} generations, wall {_secs(s['wall'])} "
            f"(compilation {_secs(s['compile'])}, generations {_secs(s['generations'])}, final "
            f"selection {_secs(s['final'])}, host {_secs(s['host'])}), "
            f"{_flop(total['flops'])}.",
            "",
        ]
    lines += [
        "FLOPs are counted from the network (the formula of `debinn_jax.execution.cost`); the",
        "peak is a square matmul in the grid's precision, measured in the same session.",
        "",
    ]
    return "\n".join(lines)


#: The cost files of a grid's output folder.
COST_JSON, COST_MD = "cost.json", "cost.md"


def save_cost(out: Any, name: str, report: Mapping[str, Any], holder: Any) -> dict[str, Any]:
    """Add a session's ``report`` to ``out/cost.json`` (its ``sessions`` and their ``total``)
    and rewrite ``out/cost.md``, atomically under the folder lock (another process may add its
    session at the same time). Returns the document written."""
    import json
    from pathlib import Path

    from debinn_jax.execution.lock import folder_lock
    from debinn_jax.io import write_json_atomic, write_text_atomic

    folder = Path(out)
    with folder_lock(folder, holder):
        sessions: list[Any] = []
        path = folder / COST_JSON
        if path.is_file():
            try:
                sessions = list(json.loads(path.read_text())["sessions"])
            except (ValueError, KeyError, TypeError):
                sessions = []  # not ours or damaged: start again
        sessions.append(dict(report))
        total = total_cost(sessions)
        doc = {"grid": name, "latest": dict(report), "total": total, "sessions": sessions}
        write_json_atomic(path, doc)
        write_text_atomic(folder / COST_MD, cost_markdown(name, report, total))
    return doc
