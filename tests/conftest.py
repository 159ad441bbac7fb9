"""Test-session set-up shared by every test file.

Under pytest-xdist (`make test` runs `pytest -n 2`) each worker is a separate process on a
machine with few cores: one TensorFlow thread pool per worker keeps two workers from fighting
over the same cores. This runs before any test module imports TensorFlow, and the variables
reach the subprocesses that tests start (the distributed tuner's chief and workers).
"""

import os

if os.environ.get("PYTEST_XDIST_WORKER"):
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
