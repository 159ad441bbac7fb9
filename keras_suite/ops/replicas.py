"""Sums over the replicas of a data-parallel train step, for statistics of the global batch.

Under JAX's `keras.distribution.DataParallel` the train step is one program over the global
batch (XLA partitions it), so a sum over the batch axis is already global. Under TensorFlow's
`tf.distribute` strategies (`MirroredStrategy`, `MultiWorkerMirroredStrategy`) each replica runs
the step on its own share of the batch: statistics of the global batch (batch-normalization
moments, a mean over the valid voxels) need an all-reduce, and a loss that a model computes
itself must be scaled by `1 / num_replicas_in_sync()` since the replicas' gradients are summed.
"""

import keras


def _replica_context():
    """TensorFlow's replica context when a step runs on more than one replica, else `None`."""
    if keras.config.backend() != "tensorflow":
        return None
    import tensorflow as tf

    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return None
    return context


def num_replicas_in_sync():
    """How many replicas share the current train step: that of the `tf.distribute` strategy
    in scope on TensorFlow, 1 elsewhere (a JAX `DataParallel` step is one global program).

    Example:

    ```python
    keras_suite.ops.num_replicas_in_sync()  # 1 outside a `tf.distribute` strategy
    ```
    """
    if keras.config.backend() != "tensorflow":
        return 1
    import tensorflow as tf

    return tf.distribute.get_strategy().num_replicas_in_sync


def cross_replica_sum(x):
    """The sum of `x` over the replicas of a `tf.distribute` step; `x` itself elsewhere.

    Differentiable: the gradient of each replica's input is the sum of the replicas' output
    gradients, as for the global computation.

    Args:
        x: a tensor, the same shape on every replica.

    Returns:
        A tensor like `x`.

    Example:

    ```python
    count = keras.ops.sum(keras.ops.ones((4,)))
    keras_suite.ops.cross_replica_sum(count)  # 4.0 on one device, the global count under
    # `MirroredStrategy`
    ```
    """
    context = _replica_context()
    if context is None:
        return x
    import tensorflow as tf

    return context.all_reduce(tf.distribute.ReduceOp.SUM, x)
