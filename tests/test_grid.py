"""The authors' 2025 regulariser grid (DEBINN-2025.md section 5): reading executionSettings.csv,
columns -> runs, errors naming key and column, and ``debinn grid`` end to end on a small
synthetic grid (resume, ``--restart``, compiled-program groups, the authors' summary.csv).

The real settings are read from ``$DEBINN_REFERENCE_DIR`` (else ``<repo>/../shared/reference``)
at test time; the end-to-end grid is synthetic (written to ``tmp_path``).
"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from _shared import reference_dir

import debinn_jax as dj
from debinn_jax.cli import main
from debinn_jax.data import DataError
from debinn_jax.execution import (
    SettingsError,
    compile_group,
    grid_run,
    grid_runs,
    inert_keys,
    read_execution_settings,
)
from debinn_jax.ga import GAConfig
from debinn_jax.network import NetworkSpec

GRID = "DLBCL-2H-Hinton"
METRICS = ("SNS", "SPC", "PPV", "NPV", "ACC", "BACC")
SUMMARY_HEADER = (
    "Key;SNS (m);SPC (m);PPV (m);NPV (m);ACC (m);BACC (m);"
    "SNS (o);SPC (o);PPV (o);NPV (o);ACC (o);BACC (o);"
    "SNS (CI95%);SPC (CI95%);PPV (CI95%);NPV (CI95%);ACC (CI95%);BACC (CI95%)"
)


def real_settings_file() -> Path:
    path = reference_dir() / "grid" / GRID / "executionSettings.csv"
    if not path.is_file():
        pytest.skip(f"the authors' grid settings not found at {path} (set DEBINN_REFERENCE_DIR)")
    return path


# --------------------------------------------------------------------------------------------
# a settings column of the 2025 program, built from the switch bits of section 5

# the values every column of the published grids shares (setting S1, switches off)
BASE = {
    "Data": "SYN",
    "Model/Layers/Input/ActionType": "LReLu",
    "Model/Layers/Input/DistanceType": "GaussianConst",
    "Model/Layers/Input/Geometry": "Euclidean",
    "Model/Layers/Input/NeuronCount": "1",
    "Model/Layers/Hidden/NeuronCount": "4",
    "Model/Layers/Hidden/ActionType": "LReLu",
    "Model/Layers/Hidden/DistanceType": "GaussianConst",
    "Model/Layers/Hidden/Geometry": "Euclidean",
    "Model/Layers/Hidden/GroupCount": "AUTO",
    "Model/Layers/Hidden/DropoutProbability": "AUTO",
    "Model/Layers/Output/ActionType": "LReLu",
    "Model/Layers/Output/DistanceType": "GaussianConst",
    "Model/Layers/Output/Geometry": "Euclidean",
    "Model/Layers/Output/NeuronCount": "2",
    "Model/Layers/Output/DropoutProbability": "0",
    "Model/LayerZSnappingMethod": "None",
    "Model/SpatialInitializationType": "Singularity",
    "Model/AbsoluteZCoordinates": "FALSE",
    "Model/DistanceRegularizationThreshold": "AUTO",
    "Analytics/Type": "LossAnalytics",
    "Analytics/Loss/Unit": "EntropyLoss",
    "Analytics/Loss/Alpha": "1",
    "Optimizer/GenerationTraining": "Single",
    "Optimizer/MaximumMutationRate": "2",
    "Optimizer/MinimumMutationRate": "0.5",
    "Optimizer/MutationDelta": "1",
    "Optimizer/PopulationCount": "AUTO",
    "Optimizer/IterationCount": "5",
    "Optimizer/BeatLength": "AUTO",
    "Optimizer/BeatPattern": "Linear",
    "Optimizer/RegenerateAnalyticsFrequency": "AUTO",
    "Optimizer/ModelSelectionMethod": "AllIn",
    "Optimizer/EnsembleCount": "1",
    "Optimizer/TournamentCount": "AUTO",
    "Optimizer/MinLeaveOutRatio": "0.2",
    "Optimizer/MaxLeaveOutRatio": "0.5",
    "Optimizer/LeaveOutStep": "0.05",
    "Optimizer/SplitCountPerLeaveOutRatio": "AUTO",
    "Regularizer/LabelSmoothing": "TRUE",
    "Regularizer/EarlyStopping": "TRUE",
    "Regularizer/EarlyStoppingMargin": "AUTO",
    "Regularizer/L1Lambda": "0",
    "Regularizer/L2Lambda": "0",
    "Regularizer/DropConnect": "FALSE",
    "Regularizer/SpatialDropout": "FALSE",
    "Regularizer/GroupNormalization": "FALSE",
    "Regularizer/WeightsStandardize": "FALSE",
    "Model/ShiftScaleOptimize": "FALSE",
}

# setting S = 1 + bits: bit -> (key, value when the bit is set)
BITS = {
    0: ("Model/ShiftScaleOptimize", "TRUE"),
    1: ("Regularizer/WeightsStandardize", "TRUE"),
    2: ("Regularizer/GroupNormalization", "Activation"),
    3: ("Regularizer/SpatialDropout", "TRUE"),
    4: ("Regularizer/DropConnect", "TRUE"),
    5: ("Regularizer/L2Lambda", "0.01"),
    6: ("Regularizer/L1Lambda", "0.01"),
}


def column(setting: int, **values: str) -> dict[str, str]:
    """Settings column S``setting`` (switches from its bits) with ``values`` replacing keys
    (``__`` in an argument name stands for ``/``)."""
    col = dict(BASE)
    for bit, (key, on) in BITS.items():
        if (setting - 1) >> bit & 1:
            col[key] = on
    for name, value in values.items():
        col[name.replace("__", "/")] = value
    return col


def write_settings(path: Path, columns: dict[str, dict[str, str]], keys=None) -> Path:
    """Write an ``executionSettings.csv``: header ``Keys;<names>``, then one row per key."""
    names = list(columns)
    keys = list(keys if keys is not None else next(iter(columns.values())))
    lines = [";".join(["Keys", *names])]
    lines += [";".join([k, *(columns[n][k] for n in names)]) for k in keys]
    path.write_text("\n".join(lines) + "\n")
    return path


def real_columns(*names: str) -> tuple[list[str], dict[str, dict[str, str]]]:
    """Keys (in file order) and the named columns of the real settings file."""
    settings = read_execution_settings(real_settings_file())
    lines = [ln for ln in real_settings_file().read_text().splitlines() if ln.strip()]
    keys = [ln.split(";")[0] for ln in lines[1:]]
    return keys, {n: dict(settings.columns[settings.names.index(n)]) for n in names}


# --------------------------------------------------------------------------------------------
# the real DLBCL 2H-Hinton grid


@pytest.fixture(scope="module")
def real():
    settings = read_execution_settings(real_settings_file())
    return settings, grid_runs(settings, 17, 2)


def test_real_settings_have_128_columns_of_48_keys(real):
    settings, runs = real
    assert len(settings.names) == 128 and len(runs) == 128
    assert settings.names[0] == "2H-Hinton-S1" and settings.names[-1] == "2H-Hinton-S128"
    assert all(len(col) == 49 for col in settings.columns)  # Data + 48 setting keys
    assert set(settings.columns[0]) == set(BASE)
    # every column is S1 with the switches of its bits (and the real data, size, budget)
    for name, col in zip(settings.names, settings.columns):
        s = int(name.rsplit("-S", 1)[1])
        expected = column(
            s,
            Data="DLBCL",
            Model__Layers__Hidden__NeuronCount="85,64",
            Optimizer__IterationCount="1000",
        )
        assert col == expected, name


def test_real_s1_is_all_off_and_s128_all_on(real):
    settings, runs = real
    s1, s128 = runs[0], runs[127]
    assert (s1.name, s128.name) == ("2H-Hinton-S1", "2H-Hinton-S128")
    assert s1.data == s128.data == "DLBCL"
    assert not s1.spec.shift_scale and not s1.spec.standardize_weights
    assert s1.spec.normalization == "none" and not s1.spec.spatial_dropout
    assert s1.config.loss.l1 == 0.0 and s1.config.loss.l2 == 0.0
    assert s1.switches == {"standardize_weights": 0.0, "normalization": 0.0, "spatial_dropout": 0.0}
    assert settings.columns[0]["Regularizer/DropConnect"] == "FALSE"
    assert s128.spec.shift_scale and s128.spec.standardize_weights
    assert s128.spec.normalization == "activation" and s128.spec.spatial_dropout
    assert s128.config.loss.l1 == 0.01 and s128.config.loss.l2 == 0.01
    assert s128.switches == {
        "standardize_weights": 1.0,
        "normalization": 1.0,
        "spatial_dropout": 1.0,
    }
    assert settings.columns[127]["Regularizer/DropConnect"] == "TRUE"


def test_real_columns_follow_the_bits(real):
    settings, runs = real
    for run, col in zip(runs, settings.columns):
        bits = int(run.name.rsplit("-S", 1)[1]) - 1
        assert run.spec.shift_scale == bool(bits & 1), run.name
        assert run.spec.standardize_weights == bool(bits >> 1 & 1), run.name
        assert run.spec.normalization == ("activation" if bits >> 2 & 1 else "none"), run.name
        assert run.spec.spatial_dropout == bool(bits >> 3 & 1), run.name
        assert col["Regularizer/DropConnect"] == ("TRUE" if bits >> 4 & 1 else "FALSE")
        assert run.config.loss.l2 == (0.01 if bits >> 5 & 1 else 0.0), run.name
        assert run.config.loss.l1 == (0.01 if bits >> 6 & 1 else 0.0), run.name
        assert run.switches == {
            "standardize_weights": float(run.spec.standardize_weights),
            "normalization": float(run.spec.normalization == "activation"),
            "spatial_dropout": float(run.spec.spatial_dropout),
        }
    # S and S + 16 differ only in the inert DropConnect: the same run
    for s in range(128):
        if not s >> 4 & 1:
            assert runs[s].spec == runs[s + 16].spec and runs[s].config == runs[s + 16].config


def test_real_columns_map_to_the_2025_network_and_ga(real):
    _, runs = real
    s1, s2 = runs[0], runs[1]
    ref = NetworkSpec.reference_2025(17, (85, 64), 2, normalization="none")
    assert s1.spec == ref
    assert s1.spec.hidden == (85, 64) and s1.spec.n_inputs == 17 and s1.spec.n_classes == 2
    assert s1.spec.kernel == "gaussian_2025" and s1.spec.activation == "lrelu"
    assert s1.spec.variant == "2025" and s1.spec.group_counts() == (10, 8, 2)
    cfg = s1.config
    assert cfg.generations == 1000  # T: 1000 iterations after the initial population
    assert (cfg.r_max, cfg.r_min, cfg.mutation_prob, cfg.crossover_prob) == (2.0, 0.5, 1.0, 0.5)
    assert cfg.schedule == "beat_2025" and cfg.population_init == "singularity"
    assert cfg.subsets == "leave_out" and cfg.leave_out == (0.2, 0.5, 0.05)
    assert cfg.hof_rule == "2025" and cfg.final_selection == "all_in" and cfg.ensemble == 1
    assert cfg.replacement == "single" and cfg.elitism == 0
    assert cfg.loss.alpha == 1.0 and cfg.loss.variant == "2025"
    assert cfg.splits == "authors" and cfg.cpp_rules == "msvc" and not cfg.replay
    assert cfg == GAConfig.reference_2025(generations=1000)
    r1 = cfg.resolve(s1.spec)
    assert (r1.population_size, r1.tournament_size, r1.beat_period) == (61, 20, 8)
    assert (r1.early_stopping, r1.splits_per_ratio) == (61, 8)
    # shift-scale genes lengthen the genome: G = 951 + 2 (10 + 8 + 2) = 991 -> P 62
    r2 = s2.config.resolve(s2.spec)
    assert (r2.population_size, r2.tournament_size, r2.beat_period) == (62, 20, 8)
    # the whole grid needs two compiled run programs: with and without shift-scale
    assert len({compile_group(r) for r in runs}) == 2


def test_real_inert_keys(real):
    settings, _ = real
    inert = inert_keys(settings)
    assert "Regularizer/DropConnect" in inert
    assert "0" in inert["Regularizer/DropConnect"]
    assert "Model/Layers/Input/ActionType" in inert
    assert "Regularizer/L1Lambda" not in inert and "Model/ShiftScaleOptimize" not in inert


# --------------------------------------------------------------------------------------------
# errors: one line naming the key and the column


def _edited(tmp_path: Path, key: str, value: str | None, add: bool = False) -> Path:
    """The real S1 and S128 columns, with ``key`` of S128 set to ``value`` (or ``key`` added
    to both / removed from both)."""
    keys, cols = real_columns("2H-Hinton-S1", "2H-Hinton-S128")
    if add:
        keys.append(key)
        for col in cols.values():
            col[key] = value
    elif value is None:
        keys.remove(key)
    else:
        cols["2H-Hinton-S128"][key] = value
    return write_settings(tmp_path / "executionSettings.csv", cols, keys)


@pytest.mark.parametrize(
    "key, value, column_name, expect",
    [
        ("Regularizer/GroupNormalization", "InputSignal", "2H-Hinton-S128", "Activation"),
        ("Regularizer/LabelSmoothing", "FALSE", "2H-Hinton-S128", "TRUE"),
        ("Model/Layers/Hidden/DistanceType", "Gaussian", "2H-Hinton-S128", "GaussianConst"),
        ("Regularizer/L1Lambda", "0.0l", "2H-Hinton-S128", "a number"),
        ("Regularizer/L2Lambda", "-0.01", "2H-Hinton-S128", "a number"),
        ("Regularizer/WeightsStandardize", "yes", "2H-Hinton-S128", "TRUE or FALSE"),
        ("Optimizer/PopulationCount", "many", "2H-Hinton-S128", "AUTO"),
        ("Model/Layers/Hidden/NeuronCount", "85;64", None, "row"),  # makes the row ragged
    ],
)
def test_bad_values_name_key_and_column(tmp_path, key, value, column_name, expect):
    path = _edited(tmp_path, key, value)
    if column_name is None:
        with pytest.raises(DataError) as info:
            read_execution_settings(path)
    else:
        settings = read_execution_settings(path)
        with pytest.raises(SettingsError) as info:
            grid_runs(settings, 17, 2)
        assert repr(column_name) in str(info.value)
        assert repr(value) in str(info.value)
    msg = str(info.value)
    assert "\n" not in msg and expect in msg
    if column_name is None:
        keys, _ = real_columns()
        row = keys.index(key) + 2  # the header is row 1
        assert f"row {row}" in msg
    else:
        assert repr(key) in msg


def test_unknown_and_missing_keys(tmp_path):
    path = _edited(tmp_path, "Regularizer/Dropout", "FALSE", add=True)
    with pytest.raises(SettingsError) as info:
        grid_runs(read_execution_settings(path), 17, 2)
    msg = str(info.value)
    assert "'Regularizer/Dropout'" in msg and "'2H-Hinton-S1'" in msg and "unknown" in msg
    assert "\n" not in msg
    path = _edited(tmp_path, "Optimizer/BeatLength", None)
    with pytest.raises(SettingsError) as info:
        grid_runs(read_execution_settings(path), 17, 2)
    msg = str(info.value)
    assert "'Optimizer/BeatLength'" in msg and "'2H-Hinton-S1'" in msg and "missing" in msg
    assert "\n" not in msg


def test_file_level_errors(tmp_path):
    with pytest.raises(DataError, match="no such file"):
        read_execution_settings(tmp_path / "nothing.csv")
    (tmp_path / "one.csv").write_text("Keys;A\n")
    with pytest.raises(DataError, match="one.csv"):
        read_execution_settings(tmp_path / "one.csv")
    twice = write_settings(tmp_path / "twice.csv", {"A": column(1)})
    twice.write_text(twice.read_text() + "Data;X\n")
    with pytest.raises(DataError, match="'Data' appears twice"):
        read_execution_settings(twice)
    dupes = write_settings(tmp_path / "dupes.csv", {"A": column(1), "B": column(2)})
    dupes.write_text(dupes.read_text().replace("Keys;A;B", "Keys;A;A", 1))
    with pytest.raises(DataError, match="duplicate"):
        read_execution_settings(dupes)
    # a folder stands for its executionSettings.csv
    folder = tmp_path / "exec"
    folder.mkdir()
    write_settings(folder / "executionSettings.csv", {"A": column(1)})
    assert read_execution_settings(folder).names == ("A",)
    # the output neuron count must match the data
    with pytest.raises(SettingsError, match="NeuronCount"):
        grid_run(column(1), "A", 3, 3)


# --------------------------------------------------------------------------------------------
# debinn grid end to end on a small synthetic grid


def write_fold(
    folder: Path, n_train: int = 40, n_test: int = 20, seed: int = 0, period: int = 2
) -> Path:
    """A small Fold folder: 3 features, labels 0/1 (1 every ``period``-th case: 2 = balanced),
    ';'-separated, Key column."""
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for part, n in (("Train", n_train), ("Test", n_test)):
        y = (np.arange(n) % period == 0).astype(int) if period != 2 else np.arange(n) % 2
        X = rng.normal(size=(n, 3)) + np.where(y[:, None] == 1, 0.8, -0.8)
        keys = [f"{part}{i:03d}" for i in range(n)]
        feats = ["Key;f1;f2;f3"] + [
            f"{k};" + ";".join(f"{v:.6f}" for v in x) for k, x in zip(keys, X)
        ]
        labels = ["Key;Outcome"] + [f"{k};{c}" for k, c in zip(keys, y)]
        (folder / f"{part}F.csv").write_text("\n".join(feats) + "\n")
        (folder / f"{part}L.csv").write_text("\n".join(labels) + "\n")
    return folder


SMALL = {  # S1: nothing; S11: WS + SD; S101: GN + L2 + L1; S2: shift-scale
    "Tiny-S1": column(1),
    "Tiny-S11": column(11),
    "Tiny-S101": column(101),
    "Tiny-S2": column(2),
}
ONE_GROUP = "Tiny-S1,Tiny-S11,Tiny-S101"


def cli(*argv: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def _results(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text())


@pytest.fixture(scope="module")
def small_grid(tmp_path_factory):
    root = tmp_path_factory.mktemp("grid")
    fold = write_fold(root / "Fold-1")
    settings = write_settings(root / "executionSettings.csv", SMALL)
    a, b = root / "out-a", root / "out-b"
    args = (settings, "--data", fold)
    steps = {}
    steps["first"] = cli("grid", *args, "--out", a, "--only", ONE_GROUP)
    steps["first_results"] = _results(a)
    steps["first_summary"] = (a / "summary.csv").read_text()
    steps["resume"] = cli("grid", *args, "--out", a, "--only", ONE_GROUP)
    steps["resume_results"] = _results(a)
    steps["restart"] = cli("grid", *args, "--out", a, "--only", ONE_GROUP, "--restart")
    steps["restart_results"] = _results(a)
    steps["all"] = cli("grid", *args, "--out", b)
    steps["all_results"] = _results(b)
    return root, steps


def _metrics(records: list[dict]) -> list:
    return [(r["name"], r["fold"], r["test"], r["train"], r["generations_run"]) for r in records]


def test_grid_runs_and_writes_results(small_grid):
    _, steps = small_grid
    code, out, err = steps["first"]
    assert code == 0, err
    assert "3 columns x 1 fold(s), data SYN" in out
    assert "Regularizer/DropConnect" in out  # listed as inert
    assert "done: 3 runs" in out
    # a line per chunk of generations while a batch trains
    assert "Tiny-S1,S11,S101 (3 columns): generation " in out and "runs still training" in out
    doc = steps["first_results"]
    records = doc["records"]
    assert [r["name"] for r in records] == ["Tiny-S1", "Tiny-S11", "Tiny-S101"]
    assert all(r["fold"] == "Fold-1" for r in records)
    assert doc["data"] == "SYN" and doc["timing"]["compile_groups"] == 1
    by_name = {r["name"]: r for r in records}
    assert by_name["Tiny-S1"]["switches"] == {
        "standardize_weights": 0.0,
        "normalization": 0.0,
        "spatial_dropout": 0.0,
    }
    assert by_name["Tiny-S11"]["switches"] == {
        "standardize_weights": 1.0,
        "normalization": 0.0,
        "spatial_dropout": 1.0,
    }
    assert by_name["Tiny-S101"]["switches"]["normalization"] == 1.0
    assert (by_name["Tiny-S101"]["l1"], by_name["Tiny-S101"]["l2"]) == (0.01, 0.01)
    assert (by_name["Tiny-S1"]["l1"], by_name["Tiny-S1"]["l2"]) == (0.0, 0.0)
    for r in records:
        assert r["hidden"] == [4] and r["shift_scale"] is False
        assert 1 <= r["generations_run"] <= 6  # 5 iterations + generation 0
        for part in ("test", "train"):
            assert set(r[part]) == set(METRICS) | {"AUC", "ECE", "Brier", "MCC"}
            assert 0.0 <= r[part]["BACC"] <= 1.0 and 0.0 <= r[part]["ACC"] <= 1.0


def test_grid_summary_is_in_the_authors_format(small_grid):
    _, steps = small_grid
    lines = steps["first_summary"].splitlines()
    assert lines[0] == SUMMARY_HEADER
    authors = reference_dir() / "grid" / GRID / "summary.csv"
    if authors.is_file():
        assert authors.read_text().splitlines()[0] == SUMMARY_HEADER
    records = {r["name"]: r for r in steps["first_results"]["records"]}
    assert len(lines) == 4
    for line in lines[1:]:
        cells = line.split(";")
        assert len(cells) == 19
        name = cells[0].removeprefix("SYN-")
        assert cells[0] == f"SYN-{name}" and name in records
        values = dict(zip(SUMMARY_HEADER.split(";")[1:], map(float, cells[1:])))
        for m in METRICS:
            expected = 100.0 * records[name]["test"][m]
            if np.isnan(expected):
                assert np.isnan(values[f"{m} (m)"])
            else:
                assert values[f"{m} (m)"] == pytest.approx(expected)
            assert values[f"{m} (o)"] == 0.0 and values[f"{m} (CI95%)"] == 0.0  # one fold
        assert 0.0 <= values["BACC (m)"] <= 100.0 and 0.0 <= values["ACC (m)"] <= 100.0


def test_grid_resumes_without_training(small_grid):
    _, steps = small_grid
    code, out, err = steps["resume"]
    assert code == 0, err
    assert "done: 3 runs" in out
    assert "runs in" not in out  # no progress line: no sweep call
    resumed = steps["resume_results"]
    # a resume that trains nothing keeps the folder's timing (the first session's)
    assert resumed["timing"] == steps["first_results"]["timing"]
    assert resumed["timing"]["calls"] and resumed["timing"]["sessions"] == 1
    assert resumed["records"] == steps["first_results"]["records"]


def test_grid_restart_reruns_the_same_runs(small_grid):
    _, steps = small_grid
    code, out, err = steps["restart"]
    assert code == 0, err
    assert "3/3 runs" in out
    doc = steps["restart_results"]
    assert len(doc["records"]) == 3 and sum(c["runs"] for c in doc["timing"]["calls"]) == 3
    # the same seed gives the same runs
    assert _metrics(doc["records"]) == _metrics(steps["first_results"]["records"])


def test_grid_compiles_one_program_per_genome_layout(small_grid):
    _, steps = small_grid
    code, out, err = steps["all"]
    assert code == 0, err
    doc = steps["all_results"]
    assert doc["timing"]["compile_groups"] == 2  # shift-scale changes the genome
    assert "2 run programs)" in out
    records = {r["name"]: r for r in doc["records"]}
    assert set(records) == set(SMALL)
    assert records["Tiny-S2"]["shift_scale"] is True
    # the 3 columns of the other group are the same runs as in the first grid (same seed and
    # column index -> same key)
    first = {r["name"]: r for r in steps["first_results"]["records"]}
    for name in ("Tiny-S1", "Tiny-S11", "Tiny-S101"):
        assert records[name]["test"] == first[name]["test"]


def test_grid_cli_reports_a_bad_column(tmp_path, small_grid):
    root, _ = small_grid
    bad = dict(SMALL)
    bad["Tiny-S5"] = column(5, Regularizer__GroupNormalization="InputSignal")
    settings = write_settings(tmp_path / "executionSettings.csv", bad)
    out_dir = tmp_path / "out"
    code, out, err = cli("grid", settings, "--data", root / "Fold-1", "--out", out_dir)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1
    assert "'Tiny-S5'" in lines[0] and "'Regularizer/GroupNormalization'" in lines[0]
    assert not out_dir.exists()


def test_grid_runs_keep_their_column_index():
    """A run's key derives from its column's position in the file, so ``--only`` reruns the
    same runs as the full grid."""
    from debinn_jax.execution import grid_runs, read_execution_settings

    path = reference_dir() / "grid" / "DLBCL-2H-Hinton"
    if not path.is_dir():
        pytest.skip(f"reference grid not found at {path}")
    runs = grid_runs(read_execution_settings(path), 17, 2)
    assert [r.index for r in runs] == list(range(128))


def test_grid_command_restores_the_callers_precision(tmp_path):
    """``debinn grid`` runs in float64 by default but leaves the caller's x64 setting as it was."""
    import jax

    from debinn_jax.cli import main

    before = bool(jax.config.jax_enable_x64)
    assert main(["grid", str(tmp_path / "missing"), "--out", str(tmp_path / "out")]) == 2
    assert bool(jax.config.jax_enable_x64) == before


def test_a_batch_killed_before_its_records_were_saved_resumes_from_its_checkpoint(
    small_grid, tmp_path, monkeypatch
):
    import debinn_jax.execution.grid as ex
    from debinn_jax.data import load_fold

    root, steps = small_grid
    fold = load_fold(root / "Fold-1")
    settings = read_execution_settings(root / "executionSettings.csv")
    runs = [r for r in grid_runs(settings, 3, 2) if r.name in ONE_GROUP.split(",")]
    real_write = ex._write_outputs

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # the process dies after the sweep, before saving its records

    monkeypatch.setattr(ex, "_write_outputs", killed)
    with ex.precision("float64"), pytest.raises(KeyboardInterrupt):  # as `debinn grid`
        ex.run_grid(runs, [("Fold-1", fold)], out=tmp_path)
    left = list((tmp_path / "checkpoints").glob("*.ckpt"))
    assert len(left) == 1  # the batch's run_many checkpoint survives
    monkeypatch.setattr(ex, "_write_outputs", real_write)
    with ex.precision("float64"):
        resumed = ex.run_grid(runs, [("Fold-1", fold)], out=tmp_path)
    assert not any((tmp_path / "checkpoints").iterdir())  # removed once the records are saved
    expected = steps["first_results"]["records"]
    assert _metrics(list(resumed.records)) == _metrics(expected)


def test_grid_shared_key_trains_equal_columns_once(tmp_path, small_grid):
    """``--keys shared``: every column runs with the same key, as the authors' program did, so
    a column that differs only in DropConnect (S17 = S1 + bit 4) is S1's run, trained once;
    other settings on the same key are other runs. A folder of per-column keys is not
    resumed with shared ones."""
    root, steps = small_grid
    cols = {"Tiny-S1": column(1), "Tiny-S17": column(17), "Tiny-S11": column(11)}
    settings = write_settings(tmp_path / "executionSettings.csv", cols)
    out_dir = tmp_path / "shared"
    code, out, err = cli(
        "grid", settings, "--data", root / "Fold-1", "--out", out_dir, "--keys", "shared"
    )
    assert code == 0, err
    doc = _results(out_dir)
    assert doc["keys"] == "shared"
    assert sum(c["runs"] for c in doc["timing"]["calls"]) == 2  # S17 was not trained
    records = {r["name"]: r for r in doc["records"]}
    assert records["Tiny-S17"]["same_run_as"] == "Tiny-S1"
    assert records["Tiny-S17"]["test"] == records["Tiny-S1"]["test"]
    assert "same_run_as" not in records["Tiny-S11"]
    # S1 under the shared key (fold_in(key(0), 0)) is another run than under its own key
    first = {r["name"]: r for r in steps["first_results"]["records"]}
    assert _metrics([records["Tiny-S1"]]) != _metrics([first["Tiny-S1"]])
    # resumed after only S1 ran: S17 is copied from S1's record, S11 alone is trained
    part = tmp_path / "part"
    args = (settings, "--data", root / "Fold-1", "--out", part, "--keys", "shared")
    assert cli("grid", *args, "--only", "Tiny-S1")[0] == 0
    code, out, err = cli("grid", *args)
    assert code == 0, err
    resumed = {r["name"]: r for r in _results(part)["records"]}
    assert sum(c["runs"] for c in _results(part)["timing"]["calls"]) == 1
    assert resumed["Tiny-S17"]["same_run_as"] == "Tiny-S1"
    assert resumed["Tiny-S17"]["seconds"] == 0.0
    assert _metrics([resumed[n] for n in cols]) == _metrics([records[n] for n in cols])
    # resuming a per-column folder with shared keys would mix two protocols
    per_column = root / "out-a"
    code, _, err = cli(
        "grid", settings, "--data", root / "Fold-1", "--out", per_column, "--keys", "shared"
    )
    assert code == 2 and "keys" in err and "per-column" in err


def test_grid_refuses_to_resume_a_folder_of_the_old_zero_spread_rule(tmp_path, small_grid):
    """Folders written before the zero-spread rule changed (no ``zero_spread_weight``: weights
    standardised to 0) are not resumed: runs with standardisation differ between the rules."""
    root, steps = small_grid
    old = tmp_path / "old"
    old.mkdir()
    doc = dict(steps["first_results"])
    del doc["zero_spread_weight"]
    del doc["keys"]
    (old / "results.json").write_text(json.dumps(doc))
    settings = root / "executionSettings.csv"
    code, _, err = cli("grid", settings, "--data", root / "Fold-1", "--out", old)
    assert code == 2 and "zero_spread_weight 0" in err and "--restart" in err


# --------------------------------------------------------------------------------------------
# messages (issue 27, point 3)


def test_progress_counts_against_the_finished_and_the_asked_for_runs(small_grid, tmp_path):
    """A folder with 3 finished settings extended by one: 4/4 runs, not 4/1."""
    root, steps = small_grid
    out = tmp_path / "extended"
    out.mkdir()
    (out / "results.json").write_text(json.dumps(steps["first_results"]))
    args = (root / "executionSettings.csv", "--data", root / "Fold-1", "--out", out)
    code, text, err = cli("grid", *args, "--only", "Tiny-S2")
    assert code == 0, err
    assert "  4/4 runs  fold Fold-1  1 run in " in text
    assert "resume:" not in text  # none of the asked-for settings was finished
    code, text, err = cli("grid", *args, "--only", "Tiny-S1,Tiny-S2,Tiny-S11")
    assert code == 0, err
    assert (
        f"resume: 3 of 3 settings already in {out / 'results.json'}, skipped; nothing left to train"
        in text
    )


def test_a_resume_says_how_many_settings_it_skipped(small_grid):
    root, steps = small_grid
    code, text, _ = steps["resume"]
    results = root / "out-a" / "results.json"
    assert f"  resume: 3 of 3 settings already in {results}, skipped; nothing left to train" in text
    # the first run found nothing to resume
    assert "resume:" not in steps["first"][1]


def test_an_interrupted_grid_says_where_it_stopped_and_how_to_resume(tmp_path, monkeypatch):
    """A real SIGINT during a batch: the line names the batch, its columns and the generation
    reached, and rerunning the same command resumes from the batch's checkpoint."""
    import os
    import signal

    import debinn_jax.execution.grid as ex

    fold = write_fold(tmp_path / "Fold-1")
    long = {"Optimizer__IterationCount": "250", "Regularizer__EarlyStopping": "FALSE"}
    cols = {"Tiny-L1": column(1, **long), "Tiny-L3": column(3, **long)}
    settings = write_settings(tmp_path / "executionSettings.csv", cols)
    out = tmp_path / "out"
    real = ex._chunk_progress

    def ctrl_c_after_the_first_chunk(*args, **kwargs):
        report = real(*args, **kwargs)
        sent = []

        def wrapped(step, history):
            report(step, history)
            if not sent:  # the loop stops after the chunk that follows
                sent.append(True)
                os.kill(os.getpid(), signal.SIGINT)

        return wrapped

    monkeypatch.setattr(ex, "_chunk_progress", ctrl_c_after_the_first_chunk)
    code, _, err = cli("grid", settings, "--data", fold, "--out", out)
    assert code == 130
    assert err.strip().splitlines() == [
        "debinn grid: interrupted by SIGINT in batch 1 of 1 (fold Fold-1: Tiny-L1,L3 "
        f"(2 columns)) after generation 200; 0/2 runs saved in {out / 'results.json'}; rerun "
        "the same command to resume (the batch from its checkpoint)"
    ]
    assert len(list((out / "checkpoints").glob("*.ckpt"))) == 1
    monkeypatch.setattr(ex, "_chunk_progress", real)
    code, text, err = cli("grid", settings, "--data", fold, "--out", out)
    assert code == 0, err
    assert "resumed from" in text and "at generation 200" in text
    assert "done: 2 runs (2 trained in this session)" in text
    # the cost of this session counts the 51 generations each run had left, not all 251
    records = _results(out)["records"]
    assert [r["generations_run"] for r in records] == [251, 251]
    assert json.loads((out / "cost.json").read_text())["latest"]["work"]["generations"] == 102


def test_accelerator_batching_gives_the_same_records_as_the_cpu_batching(tmp_path, monkeypatch):
    """On an accelerator a grid runs every run of a compiled program in one vmapped call
    (``backend_batching``); on the CPU, 16 at a time, one after the other. A replay (float64,
    the authors' random numbers, so no key differs) gives the same records either way."""
    from debinn_jax.execution import grid as grid_module
    from debinn_jax.execution import precision, read_execution_settings, run_grid

    # unbalanced classes: on balanced ones the Singularity start's tolerance is ~0 and no run
    # takes an entry, so every run would stop at the same iteration
    fold = write_fold(tmp_path / "Fold-1", period=3)
    cols = {f"Tiny-S{s}": column(s, Optimizer__IterationCount="60") for s in (1, 11, 101, 13)}
    settings = read_execution_settings(write_settings(tmp_path / "executionSettings.csv", cols))
    folds = [("Fold-1", dj.load_fold(fold))]
    runs = dj.grid_runs(settings, 3, 2)
    assert grid_module.backend_batching("cpu") == (16, 1)
    assert grid_module.backend_batching("gpu") == (256, None)
    with precision("float64"):
        cpu = run_grid(runs, folds, replay="libstdc++")
        monkeypatch.setattr(grid_module, "backend_batching", lambda: (256, None))
        gpu = run_grid(runs, folds, replay="libstdc++")
    keys = ("name", "test", "train", "generations_run", "stop_iteration", "last_entry", "candidate")
    assert [tuple(r[k] for k in keys) for r in cpu.records] == [
        tuple(r[k] for k in keys) for r in gpu.records
    ]
    assert len({r["generations_run"] for r in cpu.records}) > 1  # runs stopped apart


def test_a_folder_timing_adds_up_its_sessions():
    from debinn_jax.execution.grid import combined_timing

    first = {
        "calls": [{"runs": 2}],
        "seconds": 10.0,
        "compile_seconds": 4.0,
        "programs_compiled": 2,
        "phases": {"compile": 4.0, "generations": 5.0},
    }
    again = {
        "calls": [{"runs": 1}],
        "seconds": 3.0,
        "compile_seconds": 0.5,
        "programs_compiled": 1,
        "phases": {"compile": 0.5, "generations": 2.0},
    }
    idle = {
        "calls": [],
        "seconds": 0.01,
        "compile_seconds": 0.0,
        "programs_compiled": 0,
        "phases": {"compile": 0.0, "generations": 0.0},
    }
    one = combined_timing(None, first)
    assert one["sessions"] == 1 and one["seconds"] == 10.0
    assert combined_timing(one, idle) == one  # a resume that trained nothing
    two = combined_timing(one, again)
    assert two["sessions"] == 2 and two["calls"] == [{"runs": 2}, {"runs": 1}]
    assert (two["seconds"], two["compile_seconds"], two["programs_compiled"]) == (13.0, 4.5, 3)
    assert two["phases"] == {"compile": 4.5, "generations": 7.0}
