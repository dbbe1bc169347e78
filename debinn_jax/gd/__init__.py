"""Gradient-descent trainer for DEBI-NN ("spatial backpropagation", spec section 7).

The gradient of the DEBI loss (spec section 4, :mod:`debinn_jax.loss`) with respect to every
coordinate gene is taken with ``jax.grad`` and fed to any optax optimiser. A *population* of
independent starts (different initialisations and, optionally, learning rates) trains in one
compiled call (``vmap`` over starts, or ``lax.map`` chunks), and the start with the best
validation score is returned: the fair counterpart of a GA population of the same size.

Training is a ``lax.scan`` over epochs inside ``jit``. Early stopping freezes a start's state
once it has gone ``patience`` epochs without a validation improvement (so the population stays
vmappable); the host runs the scan in chunks of ``GDConfig.chunk`` epochs and stops as soon as
every start is frozen. The best state of each start (on the validation split) is kept in the
carry and restored at the end.

Metrics of epoch ``e`` all refer to the parameters *before* that epoch's update, so
``history["val_loss"][best_epoch]`` is the validation loss of the returned coordinates.

Project defaults, decided on validation splits only (``experiments/gd_study.py --stage
select``: 25 % outer validation split of each seed's training split, 5 seeds, balanced
accuracy, mean +- sd):

* network for GD: ``NetworkSpec(..., head="reference", shift_scale=True)``
  (:data:`GD_NETWORK_OPTIONS`). Shift-scale genes are the big step (they give the network
  biases: moons 0.872 -> 0.959, CTG 0.794 -> 0.833, HECKTOR 0.560 -> 0.664 for one start).
  The ``softmax`` head is best on moons (0.993) but unstable on the wider/deeper networks
  (CTG one start 0.709 +- 0.216, DLBCL 17-85-64-2 does not train: at the U(-1, 1) initialisation
  the median |logit| is 12-630 over 3 draws on CTG and DLBCL, so the softmax starts
  saturated), so it is not the default. The ``reference`` head divides by sum |a| and is
  immune to that scale.
* ``GDConfig()``: Adam, learning rate 0.01, constant schedule, full batch, 1000 epochs,
  patience 100 on the validation DEBI loss, 20 % stratified validation split, 8 starts with
  selection on validation, DEBI loss alpha 0.9. Outer-validation balanced accuracy of
  reference + shift-scale with 8 starts: moons 0.978 +- 0.015, CTG 0.831 +- 0.030,
  HECKTOR 0.712 +- 0.040 (best of all variants tried), DLBCL 0.558 +- 0.140 (10 outer cases:
  noise). Tried and not kept (no gain on validation): warm-up cosine schedule, gradient
  clipping at 1, per-start learning-rate spread of one decade, early stopping on validation
  balanced accuracy, alpha = 1.

The package, one module per responsibility:

* :mod:`~debinn_jax.gd.config`: :class:`GDConfig` and what it builds (the optax optimiser and
  schedule, the initial coordinates of the starts).
* :mod:`~debinn_jax.gd.step`: the pure building blocks (balanced accuracy, loss and log-probs,
  gradient norms, z sign flips) and the compiled training chunk.
* :mod:`~debinn_jax.gd.train`: :func:`train_gd` and :class:`GDResult`, the host side.
* :mod:`~debinn_jax.gd.sweep`: :func:`run_many_gd` and :class:`GDSweepResult`, many full-batch
  runs (settings x seeds) in one compiled call, the counterpart of the GA's ``run_many``.
"""

from debinn_jax.data.splits import stratified_holdout
from debinn_jax.gd.config import (
    GD_NETWORK_OPTIONS,
    MONITORS,
    SCHEDULES,
    GDConfig,
    init_starts,
    make_optimizer,
    make_schedule,
)
from debinn_jax.gd.step import (
    balanced_accuracy_t,
    layer_grad_norms,
    loss_and_logp,
    z_sign_flips,
)
from debinn_jax.gd.sweep import (
    GD_FLAG_FIELDS,
    GD_FLOAT_FIELDS,
    GD_INT_FIELDS,
    GD_SWEEPABLE,
    GDSweepResult,
    gd_settings,
    relative_rate,
    run_many_gd,
)
from debinn_jax.gd.train import GDResult, train_gd

__all__ = [
    "GD_FLAG_FIELDS",
    "GD_FLOAT_FIELDS",
    "GD_INT_FIELDS",
    "GD_NETWORK_OPTIONS",
    "GD_SWEEPABLE",
    "MONITORS",
    "SCHEDULES",
    "GDConfig",
    "GDResult",
    "GDSweepResult",
    "balanced_accuracy_t",
    "gd_settings",
    "init_starts",
    "layer_grad_norms",
    "loss_and_logp",
    "make_optimizer",
    "make_schedule",
    "relative_rate",
    "run_many_gd",
    "stratified_holdout",
    "train_gd",
    "z_sign_flips",
]
