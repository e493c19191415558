"""A scikit-learn forest answered through its trees directly (serving/trees.py): the same bits as the model's
own predict_proba / predict, adopted only after it gave them on the check rows."""

from __future__ import annotations

import numpy
import pytest
from test_answering import MODEL, Counting, table_with

from modelreg.serving import trees
from modelreg.serving.answering import Answerer


def data(seed: int, classes: int = 2, width: int = 5, rows: int = 300):
    generator = numpy.random.default_rng(seed)
    features = generator.normal(size=(rows, width))
    score = features[:, 0] + features[:, 1] * features[:, 2]
    labels = numpy.digitize(score, numpy.quantile(score, numpy.linspace(0, 1, classes + 1)[1:-1]))
    return features, labels, score


def forests():
    from sklearn.ensemble import ExtraTreesClassifier, ExtraTreesRegressor, RandomForestClassifier, RandomForestRegressor

    features, labels, score = data(3)
    features3, labels3, _ = data(4, classes=3)
    return {
        "random forest": (RandomForestClassifier(n_estimators=25, max_depth=7, random_state=0).fit(features, labels),
                          "proba"),
        "three classes": (RandomForestClassifier(n_estimators=25, random_state=1).fit(features3, labels3), "proba"),
        "string labels": (RandomForestClassifier(n_estimators=9, random_state=2).fit(
            features, numpy.where(labels == 1, "churn", "stay")), "proba"),
        "extra trees": (ExtraTreesClassifier(n_estimators=20, random_state=0).fit(features, labels), "proba"),
        "regressor": (RandomForestRegressor(n_estimators=15, max_depth=8, random_state=0).fit(features, score),
                      "predict"),
        "extra regressor": (ExtraTreesRegressor(n_estimators=15, random_state=0).fit(features, score), "predict"),
    }


@pytest.fixture(scope="module")
def fitted():
    return forests()


@pytest.mark.parametrize("name", ["random forest", "three classes", "string labels", "extra trees", "regressor",
                                  "extra regressor"])
def test_the_trees_give_the_models_own_bits(fitted, name):
    model, kind = fitted[name]
    assert trees.kind(model) == kind
    answer = trees.shortcut(model)
    own = model.predict_proba if kind == "proba" else model.predict
    for seed in range(5):
        rows = numpy.random.default_rng(100 + seed).normal(scale=2, size=(1 + 17 * seed, 5))
        for given in (rows.tolist(), rows, rows.astype(numpy.float32), [[int(v) for v in row] for row in rows]):
            got, expected = answer.through_trees(given), own(given)  # the trees alone, never the model
            assert got.dtype == expected.dtype and got.shape == expected.shape
            assert numpy.array_equal(got, expected), name  # equal bits, not approximately equal


def test_rows_the_trees_cannot_take_go_to_the_model_and_get_its_error(fitted):
    model, _ = fitted["random forest"]
    answer = trees.shortcut(model)
    with pytest.raises(ValueError, match="5 features"):
        answer([[1.0, 2.0]])  # scikit-learn's own message about the width
    with pytest.raises(ValueError):
        answer([["a", "b", "c", "d", "e"]])
    nan_row = [[float("nan"), 0.0, 0.0, 0.0, 0.0]]
    assert numpy.array_equal(answer(nan_row), model.predict_proba(nan_row))  # the model's own handling of NaN


def test_only_the_exact_single_output_forests_get_a_shortcut(fitted):
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    features, labels, _ = data(5)

    class Tweaked(RandomForestClassifier):  # may answer differently: no shortcut
        pass

    assert trees.kind(Tweaked(n_estimators=3).fit(features, labels)) is None
    assert trees.kind(RandomForestClassifier(n_estimators=3)) is None  # not fitted
    two_outputs = RandomForestClassifier(n_estimators=3).fit(features, numpy.column_stack([labels, labels]))
    assert trees.kind(two_outputs) is None
    assert trees.kind(GradientBoostingClassifier(n_estimators=3).fit(features, labels)) is None
    jobs = RandomForestClassifier(n_estimators=3, n_jobs=2).fit(features, labels)  # adds in any order
    assert trees.kind(jobs) is None
    jobs.n_jobs = 1
    assert trees.kind(jobs) == "proba"

    class OwnTree(DecisionTreeClassifier):  # a tree that may answer its own way
        pass

    replaced = RandomForestClassifier(n_estimators=3, random_state=0).fit(features, labels)
    assert trees.kind(replaced) == "proba"
    replaced.estimators_[1].__class__ = OwnTree
    assert trees.kind(replaced) is None
    assert trees.kind(DecisionTreeClassifier().fit(features, labels)) is None
    assert trees.shortcut(object()) is None


def test_a_forest_is_answered_through_its_trees_once_checked_on_the_sample(fitted):
    forest, _ = fitted["random forest"]
    model = Counting(forest)
    model.estimators_, model.n_outputs_ = forest.estimators_, 1  # a wrapper is no forest: check the wrapping
    assert trees.kind(model) is None
    answerer = Answerer(forest, sample=data(9)[0][:5].tolist())
    assert answerer.direct is not None
    assert answerer.mode == ("one pass (predictions from predict_proba, the forest's trees called directly, "
                             "verified on 5 sample rows)")
    rows = data(10)[0][:40].tolist()
    predictions, probabilities = answerer.answer(rows)
    assert numpy.array_equal(probabilities, forest.predict_proba(rows))
    assert (predictions == forest.predict(rows)).all()


def test_without_a_sample_the_first_request_decides_for_the_trees_too(fitted):
    regressor, _ = fitted["regressor"]
    answerer = Answerer(regressor)
    assert answerer.direct is None and answerer.mode.startswith("undecided")
    rows = data(11)[0][:3].tolist()
    first = answerer.answer(rows)
    assert numpy.array_equal(first[0], regressor.predict(rows)) and first[1] is None
    assert answerer.direct is not None
    assert answerer.mode == "one pass (predict, the forest's trees called directly, verified on 3 rows of the first request)"
    assert numpy.array_equal(answerer.answer(rows)[0], regressor.predict(rows))


def test_a_shortcut_that_differs_by_one_bit_is_not_used(fitted, monkeypatch):
    forest, _ = fitted["random forest"]
    real = trees.shortcut

    class OffByABit(trees.Shortcut):
        def through_trees(self, rows):
            return numpy.nextafter(super().through_trees(rows), 2.0)

    def off_by_a_bit(model):
        assert real(model) is not None  # the real one exists for this model
        return OffByABit(model, trees.kind(model))

    monkeypatch.setattr(trees, "shortcut", off_by_a_bit)
    answerer = Answerer(forest, sample=data(12)[0][:5].tolist())
    assert answerer.direct is None
    assert answerer.mode.endswith("; the forest's trees were not called directly: their sum differed from the "
                                  "model's answer")
    rows = data(13)[0][:4].tolist()
    assert numpy.array_equal(answerer.answer(rows)[1], forest.predict_proba(rows))


def test_the_trees_are_not_called_directly_when_asked_not_to_or_with_two_passes(fitted):
    forest, _ = fitted["random forest"]
    sample = data(14)[0][:5].tolist()
    assert Answerer(forest, sample=sample, direct_trees=False).direct is None
    assert Answerer(forest, sample=sample, two_pass=True).direct is None
    table = table_with({"v1.2.0": forest}, sample=sample)
    assert table.get(MODEL).answerer.direct is not None
    from modelreg.serving.models import ModelTable

    plain = ModelTable([MODEL], "production", "registry.yaml", lambda answer: forest, samples=lambda answer: sample,
                       direct_trees=False)
    from conftest import SAMPLE

    plain.update(SAMPLE)
    assert plain.get(MODEL).answerer.direct is None
    assert "called directly" not in plain.get(MODEL).answerer.mode


def test_check_rows_the_trees_cannot_take_do_not_verify_them(fitted):
    """A check on rows that all go to the model would compare the model with itself: not a check."""
    forest, _ = fitted["random forest"]
    sample = data(15)[0][:4].tolist()
    sample[2][1] = float("nan")
    answerer = Answerer(forest, sample=sample)
    assert answerer.direct is None and answerer.one_pass is True
    assert answerer.mode.endswith("the rows checked are not all finite numbers of the model's width, so the "
                                  "trees could not be checked on them")
    rows = data(16)[0][:3].tolist()
    assert numpy.array_equal(answerer.answer(rows)[1], forest.predict_proba(rows))
