"""Mean intersection-over-union for 3D semantic segmentation."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_suite")
class MeanIoU3D(keras.metrics.Metric):
    """Mean over classes of the intersection-over-union of predicted and true labels.

    Accumulates a confusion matrix over every non-ignored voxel (or point) seen and reports the
    mean IoU over the classes that occur in the labels or the predictions (a class absent from
    both is left out, as in TensorFlow 3D's evaluation). Predictions may be logits (argmax is
    taken over the last axis) or class ids.

    Args:
        num_classes: int, the number of classes.
        ignore_label: int label to skip.
        name: name of the metric.
        **kwargs: base `keras.metrics.Metric` arguments.

    Example:

    ```python
    metric = keras_suite.metrics.MeanIoU3D(num_classes=2)
    metric.update_state(np.array([[0, 0, 1, -1]]), np.array([[0, 1, 1, 0]]))
    metric.result()  # (1/2 + 1/2) / 2 = 0.5
    ```
    """

    def __init__(self, num_classes, ignore_label=-1, name="mean_iou_3d", **kwargs):
        super().__init__(name=name, **kwargs)
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(
                f"`num_classes` must be a positive int. Received: num_classes={num_classes!r}"
            )
        self.num_classes = num_classes
        self.ignore_label = ignore_label
        # float32, as in `keras.metrics.MeanIoU` (JAX has no float64 by default): counts are
        # added per batch, so a cell is exact up to 2**24 voxels and then rounds by at most one
        # count per batch.
        self.confusion = self.add_variable(
            shape=(num_classes, num_classes),
            initializer="zeros",
            dtype="float32",
            name="confusion",
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels = ops.cast(y_true, "int32")
        predictions = ops.convert_to_tensor(y_pred)
        is_float = keras.backend.is_float_dtype(keras.backend.standardize_dtype(predictions.dtype))
        if is_float and len(predictions.shape) == len(labels.shape) + 1:
            predictions = ops.argmax(predictions, axis=-1)
        predictions = ops.cast(predictions, "int32")
        labels, predictions = ops.reshape(labels, (-1,)), ops.reshape(predictions, (-1,))
        keep = labels != self.ignore_label
        weights = ops.cast(keep, self.confusion.dtype)
        if sample_weight is not None:
            weights = weights * ops.cast(ops.reshape(sample_weight, (-1,)), self.confusion.dtype)
        cells = ops.where(keep, labels, 0) * self.num_classes + predictions
        counts = ops.segment_sum(weights, cells, num_segments=self.num_classes**2)
        self.confusion.assign_add(ops.reshape(counts, (self.num_classes, self.num_classes)))

    def result(self):
        confusion = ops.convert_to_tensor(self.confusion)
        intersection = ops.diagonal(confusion)
        union = ops.sum(confusion, axis=0) + ops.sum(confusion, axis=1) - intersection
        present = union > 0
        iou = ops.where(present, intersection / ops.maximum(union, 1.0), 0.0)
        count = ops.sum(ops.cast(present, confusion.dtype))
        return ops.cast(ops.sum(iou) / ops.maximum(count, 1.0), "float32")

    def reset_state(self):
        self.confusion.assign(ops.zeros(self.confusion.shape, dtype=self.confusion.dtype))

    def get_config(self):
        config = super().get_config()
        config.update({"num_classes": self.num_classes, "ignore_label": self.ignore_label})
        return config
