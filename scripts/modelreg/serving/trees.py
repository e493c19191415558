"""scikit-learn forests answered through their trees directly: the same arithmetic, without the per-call dispatch.

A `RandomForestClassifier`'s `predict_proba` on one row costs about as much as on sixteen: most of the
time goes to joblib's dispatch of one task per tree and to each tree's input checks, not to the trees.
`shortcut(model)` returns a function that does what scikit-learn (1.4 and later) does for a single-output
forest with `n_jobs` unset, step for step: the rows as a float32 array (as `check_array` makes them), each
tree's compiled `tree_.predict` (its first output column for a regressor, its classes' columns for a
classifier), added in the forest's order to float64 zeros, divided by the number of trees — so the
floating-point results are the same bits, not merely close.

That is checked, not assumed: the answerer uses a shortcut only after it gave exactly (`array_equal`) the
model's own answer on the model's sample rows or on the first request's rows, and says so in
GET /models/{name}. Rows the shortcut cannot take as they are (not a finite 2-D array of numbers of the
model's width) go to the model itself, so every error and warning stays scikit-learn's.
"""

from __future__ import annotations

from typing import Any, Callable

FORESTS = {("sklearn.ensemble._forest", "RandomForestClassifier"): "proba",
           ("sklearn.ensemble._forest", "ExtraTreesClassifier"): "proba",
           ("sklearn.ensemble._forest", "RandomForestRegressor"): "predict",
           ("sklearn.ensemble._forest", "ExtraTreesRegressor"): "predict"}


def kind(model: Any) -> str | None:
    """'proba' (the shortcut stands for predict_proba), 'predict' (for predict) or None (no shortcut).

    Only the exact classes above, single-output, fitted, with plain trees: a subclass may override how it
    answers, so it gets no shortcut."""
    cls = type(model)
    found = FORESTS.get((cls.__module__, cls.__name__))
    if found is None or getattr(model, "n_outputs_", None) != 1:
        return None
    estimators = getattr(model, "estimators_", None)
    if not estimators or any(getattr(tree, "tree_", None) is None for tree in estimators):
        return None
    if found == "proba" and not isinstance(getattr(model, "n_classes_", None), int):
        return None
    return found


def shortcut(model: Any) -> Callable[[list], Any] | None:
    """The forest's answer (probabilities for a classifier, predictions for a regressor) through its
    trees, or None if `kind(model)` is None. The returned function answers rows it cannot take as they are
    by calling the model itself."""
    found = kind(model)
    if found is None:
        return None
    import numpy

    trees = [estimator.tree_ for estimator in model.estimators_]
    width = getattr(model, "n_features_in_", None)
    classes = model.n_classes_ if found == "proba" else 0
    fallback = model.predict_proba if found == "proba" else model.predict

    def answer(rows: list) -> Any:
        try:
            features = numpy.asarray(rows, dtype=numpy.float32)
        except (TypeError, ValueError, OverflowError):
            return fallback(rows)
        if features.ndim != 2 or features.shape[1] != width or not numpy.isfinite(features).all():
            return fallback(rows)
        features = numpy.ascontiguousarray(features)
        if found == "predict":
            total = numpy.zeros(features.shape[0], dtype=numpy.float64)
            for tree in trees:
                total += tree.predict(features)[:, 0]
        else:
            total = numpy.zeros((features.shape[0], classes), dtype=numpy.float64)
            for tree in trees:
                total += tree.predict(features)[:, :classes]
        total /= len(trees)
        return total

    return answer
