"""Classification metrics (spec section 5), NumPy on the host.

Plain functions over integer class labels ``0..K-1`` and class probabilities of shape ``(N, K)``.
They accept NumPy or JAX arrays and return Python floats. Definitions match scikit-learn; the
only deliberate difference is that every division by zero gives ``0.0`` instead of NaN (and a
warning), as scikit-learn's ``zero_division=0``. ``zero_division=float("nan")`` instead gives
NaN for a metric that is undefined (0/0) on the given labels (a macro average leaves such
classes out, as scikit-learn's ``zero_division=np.nan``); :func:`undefined_metrics` says which
and why, for reports (``debinn evaluate``). :func:`roc_auc` is undefined, and returns NaN, when
``y_true`` holds a single class.

Binary versus multi-class: with ``K == 2`` classes, sensitivity, specificity, PPV and NPV are
those of the positive class, the larger label index (1). With ``K > 2`` they are macro averages
of the one-vs-rest values over the classes that occur in ``y_true`` or ``y_pred`` (the classes
scikit-learn averages over by default); a class that occurs in neither has no errors to score.
``K`` is ``n_classes`` when given, else ``max(2, largest label + 1)`` (or ``proba.shape[1]``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

ArrayLike = Any  # np.ndarray | jax.Array | sequence

METRIC_NAMES: tuple[str, ...] = (
    "accuracy",
    "balanced_accuracy",
    "sensitivity",
    "specificity",
    "ppv",
    "npv",
    "mcc",
    "auc",
    "ece",
    "brier",
)


# --------------------------------------------------------------------------- validation


def _labels(y: ArrayLike, name: str) -> np.ndarray:
    """Check and convert class labels to an int64 vector ``(N,)``."""
    a = np.asarray(y)
    if a.ndim != 1:
        raise ValueError(f"{name} must be a 1-D array of class indices, got shape {a.shape}")
    if a.dtype == bool:
        return a.astype(np.int64)
    if np.issubdtype(a.dtype, np.integer):
        out = a.astype(np.int64)
    elif np.issubdtype(a.dtype, np.floating):
        if not np.all(np.isfinite(a)) or np.any(a != np.round(a)):
            raise ValueError(f"{name} must hold integer class indices 0..K-1, got non-integers")
        out = a.astype(np.int64)
    else:
        raise ValueError(f"{name} must hold integer class indices 0..K-1, got dtype {a.dtype}")
    if out.size and out.min() < 0:
        raise ValueError(f"{name} must hold class indices 0..K-1, got {int(out.min())}")
    return out


def _proba(proba: ArrayLike, n_samples: int) -> np.ndarray:
    """Check and convert class probabilities to a float64 matrix ``(N, K)``."""
    p = np.asarray(proba, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"proba must be a 2-D array of shape (N, K), got shape {p.shape}")
    if p.shape[0] != n_samples:
        raise ValueError(
            f"proba has {p.shape[0]} rows but y_true has {n_samples} samples; they must match"
        )
    if p.shape[1] < 2:
        raise ValueError(f"proba must have at least 2 class columns, got {p.shape[1]}")
    if not np.all(np.isfinite(p)):
        raise ValueError("proba contains NaN or infinite values")
    return p


def _n_classes(n_classes: int | None, *labels: np.ndarray) -> int:
    """Number of classes ``K``: ``n_classes`` if given (checked against the labels)."""
    largest = max((int(y.max()) for y in labels if y.size), default=-1)
    if n_classes is None:
        return max(2, largest + 1)
    k = int(n_classes)
    if k < 2:
        raise ValueError(f"n_classes must be at least 2, got {n_classes}")
    if largest >= k:
        raise ValueError(f"labels must be smaller than n_classes={k}, got class index {largest}")
    return k


def _proba_classes(t: np.ndarray, p: np.ndarray) -> int:
    """``K = proba.shape[1]``, checked against the labels in ``y_true``."""
    k = p.shape[1]
    if t.size and int(t.max()) >= k:
        raise ValueError(
            f"y_true holds class index {int(t.max())} but proba has only {k} class columns"
        )
    return k


def _pair(
    y_true: ArrayLike, y_pred: ArrayLike, n_classes: int | None
) -> tuple[np.ndarray, np.ndarray, int]:
    """Validated ``(y_true, y_pred, K)``."""
    t = _labels(y_true, "y_true")
    p = _labels(y_pred, "y_pred")
    if t.shape != p.shape:
        raise ValueError(
            f"y_pred has {p.shape[0]} samples but y_true has {t.shape[0]}; they must match"
        )
    return t, p, _n_classes(n_classes, t, p)


def _div(
    num: np.ndarray | float, den: np.ndarray | float, zero_division: float = 0.0
) -> np.ndarray:
    """Elementwise ``num / den`` with ``zero_division`` wherever ``den == 0``."""
    num = np.asarray(num, dtype=np.float64)
    den = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, float(zero_division))
    np.divide(num, den, out=out, where=den != 0)
    return out


# --------------------------------------------------------------------------- label metrics


def confusion_matrix(
    y_true: ArrayLike, y_pred: ArrayLike, n_classes: int | None = None
) -> np.ndarray:
    """Confusion matrix ``C[i, j]`` = number of samples of true class i predicted as j.

    Args:
        y_true: ``(N,)`` true class indices.
        y_pred: ``(N,)`` predicted class indices.
        n_classes: ``K``; inferred from the labels when None.

    Returns:
        ``(K, K)`` int64 counts (rows: truth, columns: prediction), as scikit-learn's.
    """
    t, p, k = _pair(y_true, y_pred, n_classes)
    return np.bincount(t * k + p, minlength=k * k).reshape(k, k)


def _one_vs_rest(
    y_true: ArrayLike, y_pred: ArrayLike, n_classes: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-class ``(tp, fp, fn, tn, scored)``, each ``(K,)``; ``scored`` marks the classes to use.

    Binary: only the positive class 1 is scored. Multi-class: the classes present in ``y_true``
    or ``y_pred``.
    """
    cm = confusion_matrix(y_true, y_pred, n_classes).astype(np.float64)
    k = cm.shape[0]
    tp = np.diag(cm)
    fp = cm.sum(axis=0) - tp
    fn = cm.sum(axis=1) - tp
    tn = cm.sum() - tp - fp - fn
    if k == 2:
        scored = np.array([False, True])
    else:
        scored = (cm.sum(axis=0) + cm.sum(axis=1)) > 0
    return tp, fp, fn, tn, scored


def _macro(values: np.ndarray, scored: np.ndarray, zero_division: float = 0.0) -> float:
    """Mean of ``values`` over the scored classes, leaving out NaN values (the undefined ones
    under ``zero_division=nan``); ``zero_division`` when no class is left."""
    kept = values[scored]
    kept = kept[~np.isnan(kept)]
    return float(kept.mean()) if kept.size else float(zero_division)


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Fraction of correct predictions. ``y_true``, ``y_pred``: ``(N,)``; 0.0 when N = 0."""
    t, p, _ = _pair(y_true, y_pred, None)
    return float(_div(np.sum(t == p), t.size))


def balanced_accuracy(y_true: ArrayLike, y_pred: ArrayLike, n_classes: int | None = None) -> float:
    """Mean per-class recall over the classes present in ``y_true`` (scikit-learn's definition).

    Binary with both classes present: ``(sensitivity + specificity) / 2``. Predicted classes that
    never occur in ``y_true`` do not count as classes. ``y_true``, ``y_pred``: ``(N,)``.
    """
    cm = confusion_matrix(y_true, y_pred, n_classes).astype(np.float64)
    support = cm.sum(axis=1)
    present = support > 0
    return _macro(_div(np.diag(cm), support), present)


def sensitivity(
    y_true: ArrayLike, y_pred: ArrayLike, n_classes: int | None = None, zero_division: float = 0.0
) -> float:
    """Sensitivity (recall, TPR) ``TP / (TP + FN)``; multi-class: macro one-vs-rest.

    ``y_true``, ``y_pred``: ``(N,)``. Binary: of class 1. Equals scikit-learn's ``recall_score``
    (``average="binary"`` or ``"macro"``, ``zero_division=0``).
    """
    tp, _, fn, _, scored = _one_vs_rest(y_true, y_pred, n_classes)
    return _macro(_div(tp, tp + fn, zero_division), scored, zero_division)


def specificity(
    y_true: ArrayLike, y_pred: ArrayLike, n_classes: int | None = None, zero_division: float = 0.0
) -> float:
    """Specificity (TNR) ``TN / (TN + FP)``; multi-class: macro one-vs-rest.

    ``y_true``, ``y_pred``: ``(N,)``. Binary: of class 1, i.e. the recall of class 0.
    """
    _, fp, _, tn, scored = _one_vs_rest(y_true, y_pred, n_classes)
    return _macro(_div(tn, tn + fp, zero_division), scored, zero_division)


def ppv(
    y_true: ArrayLike, y_pred: ArrayLike, n_classes: int | None = None, zero_division: float = 0.0
) -> float:
    """Positive predictive value (precision) ``TP / (TP + FP)``; multi-class: macro one-vs-rest.

    ``y_true``, ``y_pred``: ``(N,)``. Binary: of class 1. Equals scikit-learn's
    ``precision_score`` (``average="binary"`` or ``"macro"``, ``zero_division=0``).
    """
    tp, fp, _, _, scored = _one_vs_rest(y_true, y_pred, n_classes)
    return _macro(_div(tp, tp + fp, zero_division), scored, zero_division)


def npv(
    y_true: ArrayLike, y_pred: ArrayLike, n_classes: int | None = None, zero_division: float = 0.0
) -> float:
    """Negative predictive value ``TN / (TN + FN)``; multi-class: macro one-vs-rest.

    ``y_true``, ``y_pred``: ``(N,)``. Binary: of class 1, i.e. the precision of class 0.
    """
    _, _, fn, tn, scored = _one_vs_rest(y_true, y_pred, n_classes)
    return _macro(_div(tn, tn + fn, zero_division), scored, zero_division)


def mcc(
    y_true: ArrayLike, y_pred: ArrayLike, n_classes: int | None = None, zero_division: float = 0.0
) -> float:
    """Matthews correlation coefficient (binary, and the multi-class R_K statistic).

    ``y_true``, ``y_pred``: ``(N,)``. Equals scikit-learn's ``matthews_corrcoef``, which is
    also 0.0 when either the truth or the prediction is constant (the formula is then 0/0:
    ``zero_division`` is returned).
    """
    cm = confusion_matrix(y_true, y_pred, n_classes).astype(np.float64)
    t_sum = cm.sum(axis=1)
    p_sum = cm.sum(axis=0)
    n = cm.sum()
    cov_tp = np.trace(cm) * n - t_sum @ p_sum
    cov_pp = n * n - p_sum @ p_sum
    cov_tt = n * n - t_sum @ t_sum
    den = cov_tt * cov_pp
    return float(cov_tp / np.sqrt(den)) if den > 0 else float(zero_division)


# --------------------------------------------------------------------------- probability metrics


def _binary_auc(positive: np.ndarray, score: np.ndarray) -> float:
    """ROC AUC of ``score`` for the boolean ``positive`` (Mann-Whitney, ties count 1/2)."""
    n_pos = int(positive.sum())
    n_neg = positive.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    _, inverse, counts = np.unique(score, return_inverse=True, return_counts=True)
    mid_rank = np.cumsum(counts) - (counts - 1) / 2.0  # average 1-based rank of each value
    rank_sum = mid_rank[inverse][positive].sum()
    return float((rank_sum - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def roc_auc(y_true: ArrayLike, proba: ArrayLike) -> float:
    """Area under the ROC curve from class probabilities.

    Args:
        y_true: ``(N,)`` true class indices.
        proba: ``(N, K)`` class probabilities.

    Returns:
        Binary (K = 2): the AUC of ``proba[:, 1]`` for class 1. Multi-class: the macro mean of the
        one-vs-rest AUCs (``proba[:, c]`` for class c) over the classes present in ``y_true``,
        which equals scikit-learn's ``roc_auc_score(multi_class="ovr", average="macro")`` when
        every class is present. NaN, and only then, when ``y_true`` holds fewer than two classes
        (there are no positive/negative pairs to rank).
    """
    t = _labels(y_true, "y_true")
    p = _proba(proba, t.size)
    k = _proba_classes(t, p)
    if k == 2:
        return _binary_auc(t == 1, p[:, 1])
    present = np.flatnonzero(np.bincount(t, minlength=k))
    if present.size < 2:
        return float("nan")
    return float(np.mean([_binary_auc(t == c, p[:, c]) for c in present]))


def expected_calibration_error(y_true: ArrayLike, proba: ArrayLike, n_bins: int = 15) -> float:
    """Expected calibration error of the top-class confidence.

    Confidence = ``max_c proba[:, c]``, prediction = its argmax (ties to the lower index).
    Samples fall into ``n_bins`` equal-width bins ``(m-1)/M < conf <= m/M`` of [0, 1] (a
    confidence of exactly 0 goes to the first bin); ECE = sum over bins of
    ``(n_bin / N) * |accuracy_bin - mean confidence_bin|``.

    Args:
        y_true: ``(N,)`` true class indices.
        proba: ``(N, K)`` class probabilities.
        n_bins: number of bins M (15 by default, as in the spec).

    Returns:
        ECE in [0, 1]; 0.0 when N = 0.
    """
    if int(n_bins) < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins}")
    n_bins = int(n_bins)
    t = _labels(y_true, "y_true")
    p = _proba(proba, t.size)
    _proba_classes(t, p)
    if t.size == 0:
        return 0.0
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == t).astype(np.float64)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    bins = np.clip(np.searchsorted(edges, conf, side="left") - 1, 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    gap = np.bincount(bins, weights=correct, minlength=n_bins) - np.bincount(
        bins, weights=conf, minlength=n_bins
    )
    # sum_b (n_b / N) |acc_b - conf_b| = sum_b |sum_{i in b} (correct_i - conf_i)| / N
    return float(np.abs(gap[count > 0]).sum() / t.size)


def brier_score(y_true: ArrayLike, proba: ArrayLike) -> float:
    """Brier score, scikit-learn's convention (``brier_score_loss``, ``scale_by_half="auto"``).

    Multi-class (K > 2): mean over samples of ``sum_c (proba[:, c] - onehot_c)^2``, in [0, 2].
    Binary (K = 2): mean of ``(proba[:, 1] - y)^2``, in [0, 1]; for rows that sum to 1 this is
    half of the multi-class formula applied to the two columns. Lower is better.

    Args:
        y_true: ``(N,)`` true class indices.
        proba: ``(N, K)`` class probabilities.

    Returns:
        The Brier score; 0.0 when N = 0.
    """
    t = _labels(y_true, "y_true")
    p = _proba(proba, t.size)
    k = _proba_classes(t, p)
    if t.size == 0:
        return 0.0
    if k == 2:
        return float(np.mean((p[:, 1] - (t == 1)) ** 2))
    onehot = np.eye(k)[t]
    return float(np.mean(np.sum((p - onehot) ** 2, axis=1)))


def classification_metrics(
    y_true: ArrayLike,
    proba: ArrayLike,
    n_classes: int | None = None,
    zero_division: float = 0.0,
) -> dict[str, float]:
    """All metrics of spec section 5 from class probabilities.

    Predictions are ``argmax(proba, axis=1)`` (ties to the lower class index).

    Args:
        y_true: ``(N,)`` true class indices.
        proba: ``(N, K)`` class probabilities.
        n_classes: ``K``; must equal ``proba.shape[1]`` when given.
        zero_division: the value of a sensitivity, specificity, PPV, NPV or MCC that is 0/0
            on these labels (0.0, scikit-learn's convention; ``float("nan")`` marks them
            undefined, see :func:`undefined_metrics`).

    Returns:
        ``{name: value}`` for the names in :data:`METRIC_NAMES`: accuracy, balanced_accuracy,
        sensitivity, specificity, ppv, npv, mcc, auc, ece, brier.
    """
    t = _labels(y_true, "y_true")
    p = _proba(proba, t.size)
    if n_classes is not None and int(n_classes) != p.shape[1]:
        raise ValueError(f"n_classes={n_classes} does not match the {p.shape[1]} columns of proba")
    k = _proba_classes(t, p)
    pred = p.argmax(axis=1)
    return {
        "accuracy": accuracy(t, pred),
        "balanced_accuracy": balanced_accuracy(t, pred, k),
        "sensitivity": sensitivity(t, pred, k, zero_division),
        "specificity": specificity(t, pred, k, zero_division),
        "ppv": ppv(t, pred, k, zero_division),
        "npv": npv(t, pred, k, zero_division),
        "mcc": mcc(t, pred, k, zero_division),
        "auc": roc_auc(t, p),
        "ece": expected_calibration_error(t, p),
        "brier": brier_score(t, p),
    }


def undefined_metrics(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    n_classes: int | None = None,
    class_names: Any = None,
) -> dict[str, str]:
    """The metrics that are undefined (0/0) on these labels, each with the reason in words.

    Binary (class 1 positive): sensitivity without a true positive case, specificity without
    a true negative case, PPV without a case predicted positive, NPV without one predicted
    negative, MCC when the truth or the prediction is constant, AUC with one class in
    ``y_true``. Multi-class: a one-vs-rest metric whose every scored class is 0/0, MCC and
    AUC as above.

    Args:
        y_true: ``(N,)`` true class indices.
        y_pred: ``(N,)`` predicted class indices.
        n_classes: ``K``; inferred from the labels when None.
        class_names: the ``K`` class labels, to name the classes in the reasons (default:
            the class indices).

    Returns:
        ``{name: reason}`` for the names of :data:`METRIC_NAMES` that are undefined (empty
        when every metric is defined).
    """
    tp, fp, fn, tn, scored = _one_vs_rest(y_true, y_pred, n_classes)
    k = tp.shape[0]
    t, p, _ = _pair(y_true, y_pred, k)
    names = list(range(k)) if class_names is None else list(class_names)
    out: dict[str, str] = {}
    if k == 2:
        pos, neg = f"the positive class {names[1]!r}", f"the negative class {names[0]!r}"
        checks = {
            "sensitivity": (tp + fn, f"the data has no case of {pos} (TP + FN = 0)"),
            "specificity": (tn + fp, f"the data has no case of {neg} (TN + FP = 0)"),
            "ppv": (tp + fp, f"no case is predicted as {pos} (TP + FP = 0)"),
            "npv": (tn + fn, f"no case is predicted as {neg} (TN + FN = 0)"),
        }
    else:
        checks = {
            "sensitivity": (tp + fn, "no scored class has a case in the data"),
            "specificity": (tn + fp, "every scored class holds every case"),
            "ppv": (tp + fp, "no scored class is ever predicted"),
            "npv": (tn + fn, "every case is predicted as every scored class"),
        }
    for name, (den, why) in checks.items():
        if not np.any(den[scored] > 0):
            out[name] = why
    truth, predicted = np.unique(t).size, np.unique(p).size
    if t.size and (truth < 2 or predicted < 2):
        which = "the data holds one class only" if truth < 2 else "every case gets one class"
        out["mcc"] = f"{which} (the correlation is 0/0)"
    if truth < 2:
        out["auc"] = "the data holds one class only (no pair of classes to rank)"
    return out
