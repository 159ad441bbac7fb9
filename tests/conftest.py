"""Test-session set-up shared by every test file.

Under pytest-xdist (`make test` runs `pytest -n 2`) each worker is a separate process on a
machine with few cores: one TensorFlow thread pool per worker keeps two workers from fighting
over the same cores. This runs before any test module imports TensorFlow, and the variables
reach the subprocesses that tests start (the distributed tuner's chief and workers).

The suite runs under the Keras backend named by `KERAS_BACKEND` (TensorFlow when unset). A test
that needs TensorFlow itself (a `tf.data` pipeline, a TFDS builder, `tf.distribute`) is marked
`tensorflow_only` and skipped under the other backends; so is one marked `backend_independent`
(it calls no Keras backend: NumPy, files, plots), which every pass would run alike.
"""

import os

import pytest

if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_collection_modifyitems(config, items):
    backend = os.environ.get("KERAS_BACKEND", "tensorflow")
    if backend == "tensorflow":
        return
    skip = pytest.mark.skip(reason=f"needs TensorFlow; KERAS_BACKEND={backend}")
    for item in items:
        if "tensorflow_only" in item.keywords:
            item.add_marker(skip)
        elif "backend_independent" in item.keywords:
            item.add_marker(pytest.mark.skip(reason="calls no Keras backend: run once, on TF"))
