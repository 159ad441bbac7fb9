"""Per-voxel cross-entropy for 3D semantic segmentation, with an ignore label."""

import keras
from keras import ops

from keras_suite.ops.replicas import cross_replica_sum


@keras.saving.register_keras_serializable(package="keras_suite")
class SemanticCrossEntropy3D(keras.losses.Loss):
    """Softmax cross-entropy averaged over the voxels (or points) whose label is not ignored.

    The loss of TensorFlow 3D's semantic segmentation pipeline: labels equal to `ignore_label`
    (padding rows, unlabelled points) contribute nothing and do not count in the mean, so the
    amount of padding does not change the loss. Computed in float32.

    Args:
        ignore_label: int label to skip.
        name: name of the loss.
        **kwargs: base `keras.losses.Loss` arguments.

    Call arguments:
        y_true: int tensor (batch, num_voxels) of class ids or `ignore_label`.
        y_pred: float tensor (batch, num_voxels, num_classes) of logits.

    Returns:
        A scalar: the mean cross-entropy over non-ignored entries (0 if there are none).

    Example:

    ```python
    loss = keras_suite.losses.SemanticCrossEntropy3D(ignore_label=-1)
    loss(np.array([[1, -1]]), np.array([[[0.0, 2.0], [5.0, 0.0]]]))  # log(1 + e**-2)
    ```
    """

    def __init__(self, ignore_label=-1, name="semantic_cross_entropy_3d", **kwargs):
        super().__init__(name=name, **kwargs)
        self.ignore_label = ignore_label

    def call(self, y_true, y_pred):
        logits = ops.cast(y_pred, "float32")
        labels = ops.cast(y_true, "int32")
        if len(labels.shape) == len(logits.shape):
            labels = ops.squeeze(labels, axis=-1)
        keep = labels != self.ignore_label
        safe = ops.where(keep, labels, 0)
        log_probabilities = ops.log_softmax(logits, axis=-1)
        losses = -ops.take_along_axis(log_probabilities, safe[..., None], axis=-1)[..., 0]
        weights = ops.cast(keep, "float32")
        # Under a `tf.distribute` strategy each replica divides its sum by the count of the
        # global batch (the replicas' gradients are summed): the mean over all kept entries.
        count = cross_replica_sum(ops.sum(weights))
        return ops.sum(losses * weights) / ops.maximum(count, 1.0)

    def get_config(self):
        config = super().get_config()
        config.update({"ignore_label": self.ignore_label})
        return config
