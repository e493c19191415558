"""Run by test_workers.py in a fresh interpreter: the supervisor's first check of a HistGradientBoosting
model (OpenMP in predict), then a fork, then a prediction in the child. Prints the child's exit status.

argv[1]: "serve" (one_openmp_thread first, as `modelreg serve --workers N` does) or "plain"; argv[2]: the
seconds after which the child counts as hung (SIGALRM)."""

import os
import signal
import sys

import numpy
from threadpoolctl import threadpool_limits

sys.path[:0] = [os.path.dirname(os.path.dirname(__file__))]
from conftest import SAMPLE  # noqa: E402

from modelreg.serving.models import ModelTable  # noqa: E402
from modelreg.serving.workers import one_openmp_thread  # noqa: E402

generator = numpy.random.default_rng(0)
features = generator.normal(size=(4000, 6))
labels = (features[:, 0] + features[:, 1] > 0).astype(int)
from sklearn.ensemble import HistGradientBoostingClassifier  # noqa: E402

with threadpool_limits(limits=1):  # fitting with one thread starts no pool in this process
    model = HistGradientBoostingClassifier(max_iter=10).fit(features, labels)
table = ModelTable(["churn-classifier"], "production", "registry.yaml", lambda answer: model,
                   samples=lambda answer: features[:5].tolist())
if sys.argv[1] == "serve":
    one_openmp_thread()
table.update(SAMPLE)  # checks the model on its sample rows: predict and predict_proba
assert table.get("churn-classifier") is not None
pid = os.fork()
if pid == 0:
    signal.alarm(int(sys.argv[2]))
    model.predict_proba(features)
    os._exit(0)
_, status = os.waitpid(pid, 0)
print(status)
