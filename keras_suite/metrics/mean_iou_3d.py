"""Mean intersection-over-union for 3D semantic segmentation."""

import keras
import tensorflow as tf


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
        self.confusion = self.add_variable(
            shape=(num_classes, num_classes),
            initializer="zeros",
            dtype="float64",
            name="confusion",
        )

    def update_state(self, y_true, y_pred, sample_weight=None):
        labels = tf.cast(y_true, tf.int32)
        predictions = tf.convert_to_tensor(y_pred)
        if predictions.dtype.is_floating and predictions.shape.rank == labels.shape.rank + 1:
            predictions = tf.argmax(predictions, axis=-1, output_type=tf.int32)
        predictions = tf.cast(predictions, tf.int32)
        labels, predictions = tf.reshape(labels, [-1]), tf.reshape(predictions, [-1])
        keep = labels != self.ignore_label
        weights = tf.cast(keep, tf.float64)
        if sample_weight is not None:
            weights *= tf.cast(tf.reshape(sample_weight, [-1]), tf.float64)
        cells = tf.where(keep, labels, 0) * self.num_classes + predictions
        counts = tf.math.unsorted_segment_sum(weights, cells, self.num_classes**2)
        self.confusion.assign_add(tf.reshape(counts, [self.num_classes, self.num_classes]))

    def result(self):
        confusion = tf.convert_to_tensor(self.confusion)
        intersection = tf.linalg.diag_part(confusion)
        union = tf.reduce_sum(confusion, 0) + tf.reduce_sum(confusion, 1) - intersection
        present = union > 0
        iou = tf.where(present, intersection / tf.maximum(union, 1.0), 0.0)
        count = tf.reduce_sum(tf.cast(present, tf.float64))
        return tf.cast(tf.reduce_sum(iou) / tf.maximum(count, 1.0), tf.float32)

    def reset_state(self):
        self.confusion.assign(tf.zeros_like(self.confusion))

    def get_config(self):
        config = super().get_config()
        config.update({"num_classes": self.num_classes, "ignore_label": self.ignore_label})
        return config
