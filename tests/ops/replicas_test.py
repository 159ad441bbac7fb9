"""`cross_replica_sum` and `num_replicas_in_sync` on one replica; on two, the sums are checked
through training in `tests/zoo/multi_device_test.py` (two devices need a fresh process)."""

import keras
import numpy as np
import pytest

from keras_suite.ops import cross_replica_sum, num_replicas_in_sync
from keras_suite.testing import TestCase


class ReplicasTest(TestCase):
    def test_one_replica_sum_is_the_value(self):
        x = np.arange(6, dtype="float32").reshape(2, 3)
        self.assertEqual(num_replicas_in_sync(), 1)
        self.assertAllClose(keras.ops.convert_to_numpy(cross_replica_sum(x)), x)

    @pytest.mark.tensorflow_only
    def test_inside_a_one_device_strategy(self):
        import tensorflow as tf

        strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
        with strategy.scope():
            self.assertEqual(num_replicas_in_sync(), 1)
        result = strategy.run(lambda: cross_replica_sum(tf.constant([1.0, 2.0])))
        self.assertAllClose(result.numpy(), np.array([1.0, 2.0]))
