"""Behavioural tests of the classification metrics (spec section 5)."""

from __future__ import annotations

import math
import warnings

import jax.numpy as jnp
import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

from debinn_jax import metrics as M

SEEDS = range(8)


def _random_case(seed: int, k: int, n: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(y_true, proba, y_pred)`` with every class present in ``y_true``."""
    rng = np.random.default_rng(seed)
    y = np.concatenate([np.arange(k), rng.integers(0, k, n - k)])
    rng.shuffle(y)
    logits = rng.normal(size=(n, k)) + 1.5 * np.eye(k)[y] * rng.uniform(0, 1)
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    return y, proba, proba.argmax(axis=1)


def _sk(fn, *args, **kwargs) -> float:
    """A scikit-learn metric with its warnings silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(fn(*args, **kwargs))


# --------------------------------------------------------------------------- versus scikit-learn


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("seed", SEEDS)
def test_label_metrics_match_sklearn(seed: int, k: int) -> None:
    y, _, pred = _random_case(seed, k)
    avg = "binary" if k == 2 else "macro"
    assert M.accuracy(y, pred) == pytest.approx(skm.accuracy_score(y, pred))
    assert M.balanced_accuracy(y, pred) == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert M.sensitivity(y, pred) == pytest.approx(
        _sk(skm.recall_score, y, pred, average=avg, zero_division=0)
    )
    assert M.ppv(y, pred) == pytest.approx(
        _sk(skm.precision_score, y, pred, average=avg, zero_division=0)
    )
    assert M.mcc(y, pred) == pytest.approx(skm.matthews_corrcoef(y, pred))
    np.testing.assert_array_equal(M.confusion_matrix(y, pred, k), skm.confusion_matrix(y, pred))


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("seed", SEEDS)
def test_probability_metrics_match_sklearn(seed: int, k: int) -> None:
    y, proba, _ = _random_case(seed, k)
    # coarse probabilities create ties, which AUC must count as 1/2
    coarse = np.round(proba, 1)
    coarse = coarse / coarse.sum(axis=1, keepdims=True)  # sklearn's ovr wants rows summing to 1
    for p in (proba, coarse):
        if k == 2:
            expected = skm.roc_auc_score(y, p[:, 1])
        else:
            expected = skm.roc_auc_score(y, p, multi_class="ovr", average="macro")
        assert M.roc_auc(y, p) == pytest.approx(expected)
    assert M.brier_score(y, proba) == pytest.approx(skm.brier_score_loss(y, proba, labels=range(k)))


def test_binary_brier_is_positive_class_form_and_half_the_sum() -> None:
    y, proba, _ = _random_case(0, 2)
    b = M.brier_score(y, proba)
    assert b == pytest.approx(skm.brier_score_loss(y, proba[:, 1]))
    assert b == pytest.approx(0.5 * np.mean(np.sum((proba - np.eye(2)[y]) ** 2, axis=1)))


@settings(max_examples=30, deadline=None)
@given(
    k=st.integers(2, 4),
    data=st.data(),
)
def test_label_metrics_match_sklearn_property(k: int, data: st.DataObject) -> None:
    n = data.draw(st.integers(1, 30))
    y = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    pred = np.array(data.draw(st.lists(st.integers(0, k - 1), min_size=n, max_size=n)))
    kw = {"average": "binary", "labels": [0, 1]} if k == 2 else {"average": "macro"}
    assert M.accuracy(y, pred) == pytest.approx(skm.accuracy_score(y, pred))
    assert M.balanced_accuracy(y, pred, k) == pytest.approx(
        _sk(skm.balanced_accuracy_score, y, pred)
    )
    assert M.mcc(y, pred, k) == pytest.approx(_sk(skm.matthews_corrcoef, y, pred), abs=1e-12)
    # multi-class: macro over the classes in y_true or y_pred, as sklearn's default labels
    assert M.sensitivity(y, pred, k) == pytest.approx(
        _sk(skm.recall_score, y, pred, zero_division=0, **kw)
    )
    assert M.ppv(y, pred, k) == pytest.approx(
        _sk(skm.precision_score, y, pred, zero_division=0, **kw)
    )
    for name in ("sensitivity", "specificity", "ppv", "npv", "mcc", "balanced_accuracy"):
        value = getattr(M, name)(y, pred, k)
        assert math.isfinite(value)


# --------------------------------------------------------------------------- hand-computed cases


def test_binary_hand_computed() -> None:
    # truth 1 1 1 0 0 0 0 0, prediction 1 1 0 1 0 0 0 0: TP 2, FN 1, FP 1, TN 4
    y = [1, 1, 1, 0, 0, 0, 0, 0]
    pred = [1, 1, 0, 1, 0, 0, 0, 0]
    assert M.sensitivity(y, pred) == pytest.approx(2 / 3)
    assert M.specificity(y, pred) == pytest.approx(4 / 5)
    assert M.ppv(y, pred) == pytest.approx(2 / 3)
    assert M.npv(y, pred) == pytest.approx(4 / 5)
    assert M.balanced_accuracy(y, pred) == pytest.approx((2 / 3 + 4 / 5) / 2)


def test_binary_positive_is_larger_label() -> None:
    # swapping the labels swaps SNS<->SPC and PPV<->NPV
    y = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    pred = np.array([1, 1, 0, 1, 0, 0, 0, 0])
    assert M.sensitivity(1 - y, 1 - pred) == pytest.approx(M.specificity(y, pred))
    assert M.npv(1 - y, 1 - pred) == pytest.approx(M.ppv(y, pred))


def test_multiclass_specificity_npv_hand_computed() -> None:
    y = [0, 0, 1, 1, 2, 2]
    pred = [0, 1, 1, 1, 2, 0]
    # one-vs-rest counts (tp, fp, fn, tn): class 0 (1,1,1,3), class 1 (2,1,0,3), class 2 (1,0,1,4)
    assert M.specificity(y, pred) == pytest.approx((3 / 4 + 3 / 4 + 4 / 4) / 3)
    assert M.npv(y, pred) == pytest.approx((3 / 4 + 3 / 3 + 4 / 5) / 3)
    assert M.sensitivity(y, pred) == pytest.approx((1 / 2 + 2 / 2 + 1 / 2) / 3)
    assert M.ppv(y, pred) == pytest.approx((1 / 2 + 2 / 3 + 1 / 1) / 3)


def test_multiclass_macro_skips_absent_classes() -> None:
    # class 3 occurs in neither y_true nor y_pred: it is not averaged (spec of 4 classes)
    y = [0, 0, 1, 1, 2, 2]
    pred = [0, 1, 1, 1, 2, 0]
    for name in ("sensitivity", "specificity", "ppv", "npv"):
        fn = getattr(M, name)
        assert fn(y, pred, n_classes=4) == pytest.approx(fn(y, pred))


def test_ece_hand_computed() -> None:
    # 15 bins of width 1/15. Confidences 0.9, 0.9 (bin 14, one right) -> |0.5 - 0.9| * 2/4;
    # 0.6, 0.6 (bin 9, both right) -> |1 - 0.6| * 2/4. ECE = 0.2 + 0.2 = 0.4.
    y = [0, 1, 1, 0]
    proba = [[0.9, 0.1], [0.9, 0.1], [0.4, 0.6], [0.6, 0.4]]
    assert M.expected_calibration_error(y, proba) == pytest.approx(0.4)
    # with one bin it is |accuracy - mean confidence| = |0.75 - 0.75|
    assert M.expected_calibration_error(y, proba, n_bins=1) == pytest.approx(0.0)


def test_ece_bin_edges_are_right_closed() -> None:
    # confidence exactly 0.5 lies in (0.4, 0.5] with 10 bins, with 0.45 -> one bin, no cancelling
    y = [0, 0]
    proba = [[0.5, 0.5], [0.45, 0.55]]  # predictions 0 (right, conf .5), 1 (wrong, conf .55)
    # bins: 0.5 -> (0.4, 0.5]; 0.55 -> (0.5, 0.6]: |1 - .5| / 2 + |0 - .55| / 2
    assert M.expected_calibration_error(y, proba, n_bins=10) == pytest.approx(0.525)


def test_perfect_calibration_and_perfect_prediction() -> None:
    y = np.array([0, 1, 2, 1])
    proba = np.eye(3)[y]
    out = M.classification_metrics(y, proba)
    assert out == pytest.approx(
        {
            "accuracy": 1.0,
            "balanced_accuracy": 1.0,
            "sensitivity": 1.0,
            "specificity": 1.0,
            "ppv": 1.0,
            "npv": 1.0,
            "mcc": 1.0,
            "auc": 1.0,
            "ece": 0.0,
            "brier": 0.0,
        }
    )


# --------------------------------------------------------------------------- edge cases


def test_zero_division_gives_zero_not_nan() -> None:
    y = [0, 0, 0, 0]
    pred = [0, 0, 0, 0]  # no positives at all: SNS, PPV are 0/0
    assert M.sensitivity(y, pred) == 0.0
    assert M.ppv(y, pred) == 0.0
    assert M.specificity(y, pred) == 1.0
    assert M.npv(y, pred) == 1.0
    assert M.mcc(y, pred) == 0.0
    # all predicted positive: NPV and SPC are 0/0 or 0
    assert M.npv([1, 0], [1, 1]) == 0.0
    assert M.specificity([1, 1], [1, 1]) == 0.0
    # empty inputs
    assert M.accuracy([], []) == 0.0
    assert M.balanced_accuracy([], []) == 0.0
    assert M.mcc([], []) == 0.0
    assert M.expected_calibration_error([], np.zeros((0, 2))) == 0.0
    assert M.brier_score([], np.zeros((0, 3))) == 0.0


def test_metrics_dict_has_no_nan_except_single_class_auc() -> None:
    y = np.zeros(5, dtype=int)
    proba = np.tile([0.3, 0.7], (5, 1))  # everything predicted as the absent class 1
    out = M.classification_metrics(y, proba)
    assert set(out) == set(M.METRIC_NAMES)
    assert math.isnan(out["auc"])
    assert all(math.isfinite(v) for name, v in out.items() if name != "auc")
    assert all(isinstance(v, float) for v in out.values())


def test_auc_nan_only_with_one_class() -> None:
    proba = np.array([[0.2, 0.3, 0.5], [0.6, 0.2, 0.2], [0.1, 0.8, 0.1]])
    assert math.isnan(M.roc_auc([2, 2, 2], proba))
    # two of three classes present: macro over the present ones, not NaN
    value = M.roc_auc([0, 1, 1], proba)
    assert value == pytest.approx(
        np.mean(
            [
                skm.roc_auc_score([1, 0, 0], proba[:, 0]),
                skm.roc_auc_score([0, 1, 1], proba[:, 1]),
            ]
        )
    )


def test_argmax_ties_go_to_lower_index() -> None:
    out = M.classification_metrics([0, 1], [[0.5, 0.5], [0.5, 0.5]])
    assert out["accuracy"] == 0.5
    assert out["sensitivity"] == 0.0  # class 1 never predicted


def test_accepts_jax_arrays_and_returns_floats() -> None:
    y, proba, pred = _random_case(3, 3)
    out_np = M.classification_metrics(y, proba)
    out_jax = M.classification_metrics(jnp.asarray(y), jnp.asarray(proba, dtype=jnp.float32))
    assert out_jax == pytest.approx(out_np, abs=1e-5)
    assert isinstance(M.mcc(jnp.asarray(y), jnp.asarray(pred)), float)


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda: M.accuracy([0, 1, 1], [0, 1]), "y_pred"),
        (lambda: M.mcc([[0, 1]], [[0, 1]]), "y_true"),
        (lambda: M.roc_auc([0, 1, 1], [[0.5, 0.5], [0.5, 0.5]]), "proba"),
        (lambda: M.brier_score([0, 1], [0.5, 0.5]), "proba"),
        (lambda: M.expected_calibration_error([0, 1], [[0.5, 0.5]]), "proba"),
        (lambda: M.classification_metrics([0, 1], [[0.5, 0.5]]), "proba"),
        (lambda: M.classification_metrics([0, 1], [[0.5, 0.5]] * 2, n_classes=3), "n_classes"),
        (lambda: M.roc_auc([0, 3], [[0.5, 0.5]] * 2), "y_true"),
        (lambda: M.sensitivity([0, 2], [0, 1], n_classes=2), "n_classes"),
        (lambda: M.accuracy([0, -1], [0, 1]), "y_true"),
        (lambda: M.accuracy([0, 0.5], [0, 1]), "y_true"),
        (lambda: M.roc_auc([0, 1], [[np.nan, 1.0], [0.5, 0.5]]), "proba"),
        (lambda: M.expected_calibration_error([0, 1], [[0.5, 0.5]] * 2, n_bins=0), "n_bins"),
    ],
)
def test_bad_input_raises_value_error_naming_it(call, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        call()
