# needs: reference models/DLBCL-2H-Hinton-S69/BestModel.bin as BestModel.bin
# needs: data dlbcl/Fold-1 as Fold-1

import jax
import numpy as np

import debinn_jax as dj

jax.config.update("jax_enable_x64", True)  # optional: float64, as the authors' program computes

model = dj.load_authors_model("BestModel.bin")
print(model.spec.variant, model.spec.layer_sizes)
print("test BACC stored in the file:", model.metrics["Test"]["BACC"])
test = dj.load_fold("Fold-1").test
cols = [test.feature_names.index(n) for n in model.feature_names]  # match columns by name
proba = dj.apply(model.spec, model.coords, test.X[:, cols])  # features go in raw
metrics = dj.classification_metrics(test.y, np.asarray(proba))
print("test BACC recomputed:  ", metrics["balanced_accuracy"])
