"""A Flax feature extractor with a DEBI-NN head, trained end to end with optax.

Usage::

    python experiments/flax_head.py [--head softmax|scale|reference] [--epochs 300]
        [--features 8] [--hidden 8] [--seed 0]

scikit-learn's breast-cancer data (569 cases, 30 features, 2 classes), a stratified 70/30
split, z-scored on the training part. The model is ``nnx.Linear(30, F) -> tanh ->
DEBIHead(F -> hidden -> 2)``; every parameter (the linear layer's weights and the head's
neuron coordinates) is trained together by full-batch Adam on the cross-entropy. ``--head``:

* ``softmax`` (default): the spec's softmax head, temperature 1 (``debinn_jax.nnx.uncapped_head``);
* ``scale``: the reference head with a learnable scale (``DEBIHead(..., learn_scale=True)``);
* ``reference``: the reference head as in the DEBI-NN papers (probabilities capped at 0.731).

Prints the training loss, the test accuracy and the mean top-class probability on the test
part. Uses only the public API (``debinn_jax``, ``debinn_jax.nnx``).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence

import jax
import jax.numpy as jnp
import numpy as np
import optax
from flax import nnx
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split

import debinn_jax as dj
from debinn_jax.nnx import DEBIHead

HEADS = ("softmax", "scale", "reference")


class FeaturesAndHead(nnx.Module):
    """``Linear(n_in, features) -> tanh -> DEBIHead``: ``(N, n_in) -> (N, 2)`` log-probs."""

    def __init__(self, n_in: int, features: int, hidden: int, head: str, rngs: nnx.Rngs):
        self.features = nnx.Linear(n_in, features, rngs=rngs)
        spec = dj.NetworkSpec(
            features,
            (hidden,) if hidden else (),
            2,
            head="softmax" if head == "softmax" else "reference",
        )
        self.head = DEBIHead(spec, rngs=rngs, learn_scale=head == "scale")

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.head(jnp.tanh(self.features(x)))


def breast_cancer(seed: int) -> tuple[np.ndarray, ...]:
    """Stratified 70/30 split of the breast-cancer data, z-scored on the training part."""
    X, y = load_breast_cancer(return_X_y=True)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
    scaler = dj.Standardizer().fit(X_tr)
    return (
        scaler.transform(X_tr).astype(np.float32),
        scaler.transform(X_te).astype(np.float32),
        y_tr,
        y_te,
    )


def train(
    model: FeaturesAndHead, X: jax.Array, y: jax.Array, epochs: int, learning_rate: float
) -> float:
    """Full-batch Adam on the cross-entropy for ``epochs`` steps; returns the last loss."""
    optimizer = nnx.Optimizer(model, optax.adam(learning_rate), wrt=nnx.Param)

    @nnx.jit
    def step(model: FeaturesAndHead, optimizer: nnx.Optimizer) -> jax.Array:
        def loss_fn(m: FeaturesAndHead) -> jax.Array:
            return optax.softmax_cross_entropy_with_integer_labels(m(X), y).mean()

        loss, grads = nnx.value_and_grad(loss_fn)(model)
        optimizer.update(model, grads)
        return loss

    loss = jnp.nan
    for _ in range(epochs):
        loss = step(model, optimizer)
    return float(loss)


def main(argv: Sequence[str] | None = None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--head", choices=HEADS, default="softmax")
    parser.add_argument("--epochs", type=int, default=300)
    parser.add_argument("--features", type=int, default=8)
    parser.add_argument("--hidden", type=int, default=8)
    parser.add_argument("--learning-rate", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    X_tr, X_te, y_tr, y_te = breast_cancer(args.seed)
    model = FeaturesAndHead(
        X_tr.shape[1], args.features, args.hidden, args.head, nnx.Rngs(args.seed)
    )
    t0 = time.perf_counter()
    loss = train(model, jnp.asarray(X_tr), jnp.asarray(y_tr), args.epochs, args.learning_rate)
    seconds = time.perf_counter() - t0
    proba = np.exp(np.asarray(model(jnp.asarray(X_te))))
    accuracy = float(np.mean(proba.argmax(axis=1) == y_te))
    top = float(proba.max(axis=1).mean())
    print(
        f"head {args.head}: {args.epochs} epochs in {seconds:.1f} s, training loss {loss:.4f}; "
        f"test accuracy {accuracy:.4f} ({len(y_te)} cases), mean top-class probability {top:.3f}"
    )
    return {"loss": loss, "accuracy": accuracy, "top_probability": top}


if __name__ == "__main__":
    main()
