"""A row's prediction does not depend on which other rows are in the batch (issue 27).

``apply`` is compiled per input shape, and XLA sums a row's products in a shape-dependent
order (a single row's matmuls become multiply-and-reduce, batches run a GEMM): the results of
a batch and of a subset may differ in the last bits. Trained models predict through
``model_proba``, one compiled program of fixed block shape, so the rows agree bit for bit.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from sklearn.utils.estimator_checks import (
    check_methods_sample_order_invariance,
    check_methods_subset_invariance,
)

from debinn_jax.estimator import DEBIClassifier
from debinn_jax.network import NetworkSpec, apply, init_coords, model_proba

SPECS = {
    # sizes of the DLBCL / HECKTOR networks, where apply's batch and single rows differ on CPU
    "17-85-64-2": NetworkSpec(17, (85, 64), 2),
    "2025 36-180-2": NetworkSpec.reference_2025(
        36, (180,), 2, shift_scale=True, normalization="activation"
    ),
}
SMALL = NetworkSpec(3, (4,), 3, head="softmax", temperature=0.5)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_model_proba_rows_do_not_depend_on_the_batch(name: str) -> None:
    spec = SPECS[name]
    coords = init_coords(jax.random.key(1), spec)
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, spec.n_inputs)).astype(np.float32)  # two blocks of 256
    full = model_proba(spec, coords, X)
    assert full.shape == (300, spec.n_classes)
    np.testing.assert_allclose(full.sum(axis=1), 1.0, rtol=1e-6)
    for i in (0, 5, 255, 256, 299):
        assert np.array_equal(model_proba(spec, coords, X[i : i + 1])[0], full[i]), i
    perm = rng.permutation(300)
    assert np.array_equal(model_proba(spec, coords, X[perm]), full[perm])
    for rows in (slice(3, 23), slice(40, 297)):
        assert np.array_equal(model_proba(spec, coords, X[rows]), full[rows])
    # the same values as the traceable forward pass, to float32 rounding
    np.testing.assert_allclose(full[:8], np.asarray(apply(spec, coords, X[:8])), atol=1e-6)


def test_model_proba_of_an_ensemble_is_row_invariant() -> None:
    spec = SMALL
    members = jax.vmap(lambda k: init_coords(k, spec))(jax.random.split(jax.random.key(2), 3))
    X = np.random.default_rng(1).normal(size=(40, 3)).astype(np.float32)
    full = model_proba(spec, None, X, ensemble=members)
    rows = np.vstack([model_proba(spec, None, X[i : i + 1], ensemble=members) for i in range(40)])
    assert np.array_equal(full, rows)
    one = [model_proba(spec, jax.tree.map(lambda a, i=i: a[i], members), X) for i in range(3)]
    np.testing.assert_allclose(full, np.mean(one, axis=0), atol=1e-6)


def test_model_proba_checks_the_shape_and_accepts_no_rows() -> None:
    spec = SMALL
    coords = init_coords(jax.random.key(0), spec)
    with pytest.raises(ValueError, match=r"x must have shape \(n, 3\)"):
        model_proba(spec, coords, np.zeros((2, 4), np.float32))
    assert model_proba(spec, coords, np.zeros((0, 3), np.float32)).shape == (0, 3)
    assert jnp.zeros(()).dtype == model_proba(spec, coords, np.zeros((1, 3), np.float32)).dtype


def test_estimator_passes_scikit_learns_invariance_checks() -> None:
    # the configuration of the report: GD, 100 epochs, one hidden layer of 4
    clf = DEBIClassifier(trainer="gd", epochs=100, hidden=(4,), random_state=0)
    check_methods_subset_invariance("DEBIClassifier", clf)
    check_methods_sample_order_invariance("DEBIClassifier", clf)
