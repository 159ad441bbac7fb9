"""Data-parallel training on two devices follows the one-device loss trajectory.

Each test runs `multi_device_run.py` in a fresh process (the flags that make two virtual CPU
devices act only before the framework starts): `SemanticSegmentation3D` (sparse voxel inputs,
masked batch normalization, a mean over the valid voxels) and `TransporterNet` train for a few
steps of `fit` from the same weights on the same global batch, on one device and on two. The
one-device run is the reference: the two-device losses and trained weights must match it.
"""

import json
import os
import subprocess
import sys

import keras
import pytest

from keras_suite.testing import TestCase

RUNNER = os.path.join(os.path.dirname(__file__), "multi_device_run.py")
MODELS = ("semantic_segmentation3d", "transporter_net")


def run_on_two_devices(backend):
    env = dict(os.environ, KERAS_BACKEND=backend)
    result = subprocess.run(
        [sys.executable, RUNNER, *MODELS], env=env, capture_output=True, text=True, timeout=600
    )
    if result.returncode != 0:
        raise AssertionError(result.stderr[-3000:])
    return json.loads(result.stdout.strip().splitlines()[-1])


class MultiDeviceTest(TestCase):
    def check_trajectories(self, results):
        self.assertEqual(sorted(results), sorted(MODELS))
        for name, result in results.items():
            one, many = result["one_device"], result["data_parallel"]
            self.assertEqual(result["devices"], 2, name)
            # Training moves the weights and the loss, so equal trajectories are not trivial.
            self.assertGreater(result["weight_change"], 1e-3, name)
            self.assertGreater(abs(one[0] - one[-1]), 1e-3, (name, one))
            self.assertAllClose(many, one, rtol=1e-4, atol=1e-5, msg=name)
            self.assertLess(result["weight_gap"], 1e-4, name)

    @pytest.mark.slow
    @pytest.mark.skipif(keras.config.backend() != "jax", reason="the JAX run's test")
    def test_jax_data_parallel_matches_one_device(self):
        self.check_trajectories(run_on_two_devices("jax"))

    @pytest.mark.slow
    @pytest.mark.tensorflow_only
    def test_tensorflow_mirrored_strategy_matches_one_device(self):
        self.check_trajectories(run_on_two_devices("tensorflow"))
