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

from typing import Any

FORESTS = {("sklearn.ensemble._forest", "RandomForestClassifier"): "proba",
           ("sklearn.ensemble._forest", "ExtraTreesClassifier"): "proba",
           ("sklearn.ensemble._forest", "RandomForestRegressor"): "predict",
           ("sklearn.ensemble._forest", "ExtraTreesRegressor"): "predict"}
TREES = {("sklearn.tree._classes", name) for name in
         ("DecisionTreeClassifier", "ExtraTreeClassifier", "DecisionTreeRegressor", "ExtraTreeRegressor")}


def kind(model: Any) -> str | None:
    """'proba' (the shortcut stands for predict_proba), 'predict' (for predict) or None (no shortcut).

    Only the exact classes above, single-output, fitted, of scikit-learn's own trees, with `n_jobs` unset
    or 1: a subclass may override how it answers, and with several jobs the forest adds its trees in the
    order its threads finish, so its own last bits vary from call to call."""
    cls = type(model)
    found = FORESTS.get((cls.__module__, cls.__name__))
    if found is None or getattr(model, "n_outputs_", None) != 1 or getattr(model, "n_jobs", None) not in (None, 1):
        return None
    estimators = getattr(model, "estimators_", None)
    if not estimators or any((type(tree).__module__, type(tree).__name__) not in TREES
                             or getattr(tree, "tree_", None) is None for tree in estimators):
        return None
    if found == "proba" and not isinstance(getattr(model, "n_classes_", None), int):
        return None
    if not isinstance(getattr(model, "n_features_in_", None), int):
        return None
    return found


class Shortcut:
    """Calling it answers rows as the model would (through the trees when it can, else through the model);
    `through_trees(rows)` answers only through the trees, or returns None for rows they cannot take as they
    are, so a check of the shortcut checks the trees and never the model against itself."""

    def __init__(self, model: Any, found: str):
        self.trees = [estimator.tree_ for estimator in model.estimators_]
        self.width = model.n_features_in_
        self.classes = model.n_classes_ if found == "proba" else 0
        self.fallback = model.predict_proba if found == "proba" else model.predict

    def __call__(self, rows: list) -> Any:
        answer = self.through_trees(rows)
        return self.fallback(rows) if answer is None else answer

    def through_trees(self, rows: list) -> Any | None:
        import numpy

        try:
            features = numpy.asarray(rows, dtype=numpy.float32)
        except (TypeError, ValueError, OverflowError):
            return None
        if features.ndim != 2 or features.shape[1] != self.width or not numpy.isfinite(features).all():
            return None
        features = numpy.ascontiguousarray(features)
        if not self.classes:
            total = numpy.zeros(features.shape[0], dtype=numpy.float64)
            for tree in self.trees:
                total += tree.predict(features)[:, 0]
        else:
            total = numpy.zeros((features.shape[0], self.classes), dtype=numpy.float64)
            for tree in self.trees:
                total += tree.predict(features)[:, :self.classes]
        total /= len(self.trees)
        return total


def shortcut(model: Any) -> Shortcut | None:
    """The forest's answer (probabilities for a classifier, predictions for a regressor) through its
    trees, or None if `kind(model)` is None."""
    found = kind(model)
    return None if found is None else Shortcut(model, found)
