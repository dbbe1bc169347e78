"""Behavioural tests of the scikit-learn classifier (debinn_jax.estimator)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import check_estimator

from debinn_jax.estimator import DEBIClassifier, network_spec, trainer_config
from debinn_jax.ga import GAConfig
from debinn_jax.gd import GDConfig

# Tiny budgets. The GD settings are shared with test_io / test_cli so compiled programs are reused.
GD_OPTIONS = {"starts": 1, "chunk": 50, "validation_fraction": 0.0, "patience": 1000}
# no hidden layer, 50 epochs: without shift-scale genes (on by default; with them this tiny
# GD run scored 0.5-1.0 in 2-fold CV over seeds 0-2, against 0.93-1.0 without)
FAST_GD = dict(
    hidden=(),
    shift_scale=False,
    trainer="gd",
    epochs=50,
    learning_rate=0.05,
    trainer_options=GD_OPTIONS,
)
FAST_GA = dict(
    hidden=(4,),
    trainer="ga",
    population_size=8,
    generations=20,
    trainer_options={"chunk": 20, "final_subsets": 2},
)


def blobs(n: int = 60, seed: int = 0, shift: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Two Gaussian blobs left and right of a point away from the origin; labels 0/1."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(0.0, 0.5, (n, 2)) + shift
    X[:, 0] += np.where(y == 1, 1.5, -1.5)
    return X, y


X, Y = blobs()
LABELS = np.where(Y == 1, "malignant", "benign")


@pytest.fixture(scope="module")
def gd_clf() -> DEBIClassifier:
    return DEBIClassifier(**FAST_GD, random_state=0).fit(X, LABELS)


@pytest.fixture(scope="module")
def ga_clf() -> DEBIClassifier:
    return DEBIClassifier(**(FAST_GA | {"hidden": ()}), random_state=0).fit(X, Y)


@pytest.mark.slow  # scikit-learn check_estimator: many fits (60 s cold)
def test_check_estimator_gd() -> None:
    # Every scikit-learn estimator check passes; none is expected to fail.
    check_estimator(DEBIClassifier(**FAST_GD, random_state=0))


@pytest.mark.slow
def test_check_estimator_ga() -> None:
    check_estimator(DEBIClassifier(**FAST_GA, random_state=0))


def test_string_labels_and_fitted_attributes(gd_clf: DEBIClassifier) -> None:
    assert list(gd_clf.classes_) == ["benign", "malignant"]
    assert gd_clf.n_features_in_ == 2
    assert not hasattr(gd_clf, "feature_names_in_")
    pred = gd_clf.predict(X)
    assert set(pred) <= {"benign", "malignant"}
    assert gd_clf.score(X, LABELS) > 0.9
    proba = gd_clf.predict_proba(X)
    assert proba.shape == (60, 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-6)
    np.testing.assert_array_equal(pred, gd_clf.classes_[proba.argmax(axis=1)])
    assert gd_clf.train_info_["epochs_run"] >= 1
    assert "train_loss" in gd_clf.history_


def test_ga_trainer_learns_and_is_reproducible(ga_clf: DEBIClassifier) -> None:
    assert ga_clf.score(X, Y) > 0.8
    assert ga_clf.train_info_["generations_run"] <= 20
    again = DEBIClassifier(**(FAST_GA | {"hidden": ()}), random_state=0).fit(X, Y)
    np.testing.assert_array_equal(again.predict_proba(X), ga_clf.predict_proba(X))


def test_same_seed_same_model_other_seed_other_model() -> None:
    a = DEBIClassifier(**FAST_GD, random_state=3).fit(X, Y).predict_proba(X)
    b = DEBIClassifier(**FAST_GD, random_state=3).fit(X, Y).predict_proba(X)
    c = DEBIClassifier(**FAST_GD, random_state=4).fit(X, Y).predict_proba(X)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_standardize_setting_is_used() -> None:
    clf = DEBIClassifier(**FAST_GD, random_state=0).fit(X, Y)
    assert clf.model_.standardizer is not None
    np.testing.assert_allclose(clf.model_.standardizer.mean_, X.mean(axis=0))
    raw = DEBIClassifier(**FAST_GD, standardize=False, random_state=0).fit(X, Y)
    assert raw.model_.standardizer is None


def test_pandas_frame_feature_names() -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(X, columns=["age", "suv"])
    clf = DEBIClassifier(**FAST_GD, random_state=0).fit(df, pd.Series(LABELS))
    assert list(clf.feature_names_in_) == ["age", "suv"]
    assert clf.model_.feature_names == ("age", "suv")
    with pytest.warns(UserWarning, match="does not have valid feature names"):  # sklearn's rule
        from_array = clf.predict(X[:, :2].copy())
    np.testing.assert_array_equal(clf.predict(df), from_array)
    with pytest.raises(ValueError, match="feature names"):
        clf.predict(df.rename(columns={"suv": "SUV"}))


def test_pipeline_cross_val_score_and_grid_search() -> None:
    pipe = Pipeline(
        [("scale", StandardScaler()), ("debi", DEBIClassifier(**FAST_GD, random_state=0))]
    )
    scores = cross_val_score(pipe, X, LABELS, cv=2)
    assert scores.shape == (2,) and np.all(scores > 0.8)
    grid = GridSearchCV(
        DEBIClassifier(**FAST_GD, random_state=0),
        {"learning_rate": [0.01, 0.05]},
        cv=2,
    ).fit(X, Y)
    assert grid.best_params_["learning_rate"] in (0.01, 0.05)
    assert grid.score(X, Y) > 0.8


# --------------------------------------------------------------------------- user errors


def test_predict_with_wrong_number_of_columns(gd_clf: DEBIClassifier) -> None:
    with pytest.raises(ValueError, match="X has 3 features, but DEBIClassifier is expecting 2"):
        gd_clf.predict(np.zeros((4, 3)))


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_or_inf_in_features(gd_clf: DEBIClassifier, bad: float) -> None:
    Xb = X.copy()
    Xb[5, 1] = bad
    with pytest.raises(ValueError, match="NaN|infinity"):
        DEBIClassifier(**FAST_GD).fit(Xb, Y)
    with pytest.raises(ValueError, match="NaN|infinity"):
        gd_clf.predict_proba(Xb)


def test_single_class_in_y() -> None:
    with pytest.raises(ValueError, match="at least 2 classes.*only one class: 'a'"):
        DEBIClassifier(**FAST_GD).fit(X, np.full(60, "a"))


def test_continuous_y_is_rejected() -> None:
    with pytest.raises(ValueError, match="Unknown label type"):
        DEBIClassifier(**FAST_GD).fit(X, np.linspace(0, 1, 60))


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"kernel": "cosine"}, "kernel must be one of .*'cosine'"),
        ({"trainer": "adam"}, "trainer must be one of \\('ga', 'gd'\\), got 'adam'"),
        ({"trainer_options": {"populaton_size": 4}}, "unknown ga setting 'populaton_size'"),
        ({"network_options": {"tempreature": 2.0}}, "unknown network setting 'tempreature'"),
        ({"hidden": (0,)}, "hidden must be an integer >= 1"),
    ],
)
def test_bad_settings_fail_at_fit_with_a_clear_message(params: dict, message: str) -> None:
    clf = DEBIClassifier(**params)  # __init__ never validates (scikit-learn rule)
    with pytest.raises(ValueError, match=message):
        clf.fit(X, Y)


def test_trainer_config_and_network_spec_helpers() -> None:
    cfg = trainer_config("ga", {"population_size": 6, "loss": {"alpha": 1.0}}, generations=7)
    assert cfg == GAConfig(population_size=6, generations=7, loss=cfg.loss)
    assert cfg.loss.alpha == 1.0
    gd = trainer_config("gd", GDConfig(epochs=3), learning_rate=None)
    assert gd.epochs == 3 and gd.learning_rate == GDConfig().learning_rate
    with pytest.raises(ValueError, match="unknown ga.loss setting 'beta'"):
        trainer_config("ga", {"loss": {"beta": 1}})
    spec = network_spec(5, 3, {"hidden": [8, 4], "layer_delta": -0.5}, kernel="inverse")
    assert spec.hidden == (8, 4) and spec.kernel == "inverse" and spec.n_inputs == 5


def test_unfitted_predict_raises() -> None:
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        DEBIClassifier().predict(X)


def test_from_model_gives_the_same_predictions(gd_clf: DEBIClassifier) -> None:
    clone = DEBIClassifier.from_model(gd_clf.to_model())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        np.testing.assert_array_equal(clone.predict_proba(X), gd_clf.predict_proba(X))
    assert clone.trainer == "gd" and clone.get_params()["hidden"] == ()
