"""TensorFlow 3D's dynamic box classification loss: class targets from predicted-box overlap."""

import keras
from keras import ops

from keras_suite.ops.rotated_box_iou_3d import rotated_box_iou_3d


@keras.saving.register_keras_serializable(package="keras_suite")
class DynamicBoxClassificationLoss3D(keras.losses.Loss):
    """Softmax cross-entropy whose positives are the voxels that predict their box well.

    The dynamic classification loss of TensorFlow 3D's object detector: every voxel predicts
    a box and class scores. A voxel of an object (class id > 0) is a positive for that class
    only when the rotated 3D IoU (`keras_suite.ops.rotated_box_iou_3d`) of its predicted box
    with its ground-truth box reaches `iou_threshold`; otherwise its target is the background
    class 0. Background voxels keep the target 0. The scores thus learn to rank voxels by the
    quality of their boxes, which is what non-maximum suppression needs. The IoU is treated as
    a constant (no gradient flows through the boxes here; `BoxCornerLoss3D` trains them). The
    cross-entropy is averaged over the voxels whose class id is not `ignore_label`, in float32.

    Args:
        iou_threshold: float in (0, 1], the IoU at which a voxel becomes a positive.
        ignore_label: class id of voxels to skip (padding).
        name: name of the loss.
        **kwargs: base `keras.losses.Loss` arguments.

    Call arguments:
        y_true: float tensor (..., 8): the voxel's ground-truth box `(cx, cy, cz, sx, sy, sz,
            yaw)` followed by its class id (0 background, `ignore_label` skipped).
        y_pred: float tensor (..., 7 + num_classes): the voxel's predicted box followed by its
            class logits (index 0 is the background).

    Returns:
        A scalar: the mean cross-entropy over the non-ignored voxels (0 if there are none).

    Example:

    ```python
    loss = keras_suite.losses.DynamicBoxClassificationLoss3D(iou_threshold=0.5)
    box = [0.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0]
    y_true = np.array([box + [1.0], box + [1.0]])
    far = [5.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.0]
    y_pred = np.array([box + [0.0, 2.0], far + [0.0, 2.0]])  # logits (background, class 1)
    loss(y_true, y_pred)  # (log(1 + e**-2) + log(1 + e**2)) / 2: the far box is a negative
    ```
    """

    def __init__(
        self,
        iou_threshold=0.5,
        ignore_label=-1,
        name="dynamic_box_classification_loss_3d",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        if not isinstance(iou_threshold, (int, float)) or not 0 < iou_threshold <= 1:
            raise ValueError(
                "`iou_threshold` must be a float in (0, 1]. "
                f"Received: iou_threshold={iou_threshold!r}"
            )
        self.iou_threshold = iou_threshold
        self.ignore_label = ignore_label

    def call(self, y_true, y_pred):
        y_true = ops.cast(y_true, "float32")
        y_pred = ops.cast(y_pred, "float32")
        if y_true.shape[-1] != 8 or y_pred.shape[-1] is None or y_pred.shape[-1] < 9:
            raise ValueError(
                "`y_true` must end in 8 numbers (a box of 7 and a class id) and `y_pred` in "
                "7 + num_classes (a box and at least 2 logits). Received: "
                f"y_true shape={tuple(y_true.shape)}, y_pred shape={tuple(y_pred.shape)}"
            )
        labels = ops.cast(ops.round(y_true[..., 7]), "int32")
        iou = ops.stop_gradient(rotated_box_iou_3d(y_pred[..., :7], y_true[..., :7]))
        positive = ops.logical_and(labels > 0, iou >= self.iou_threshold)
        targets = ops.where(positive, labels, 0)
        keep = ops.cast(labels != self.ignore_label, "float32")
        losses = keras.losses.sparse_categorical_crossentropy(
            targets, y_pred[..., 7:], from_logits=True
        )
        return ops.sum(losses * keep) / ops.maximum(ops.sum(keep), 1.0)

    def get_config(self):
        config = super().get_config()
        config.update({"iou_threshold": self.iou_threshold, "ignore_label": self.ignore_label})
        return config
