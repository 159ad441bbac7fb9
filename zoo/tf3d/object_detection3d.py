"""TensorFlow 3D's 3D object detection pipeline as a Keras model."""

import math
import os

import keras
import numpy as np
from keras import ops

from keras_suite.layers.sparse import SparseConv3D
from keras_suite.losses.box_corner_loss_3d import BoxCornerLoss3D
from keras_suite.losses.dynamic_box_classification_loss_3d import (
    DynamicBoxClassificationLoss3D,
)
from keras_suite.ops.nms_3d import non_max_suppression_3d
from keras_suite.presets.preset_mixin import PresetMixin
from keras_suite.zoo.tf3d.sparse_unet3d import (
    check_voxel_inputs,
    compile_from_saved_config,
    resolve_backbone,
)

MAX_LOG_SIZE = 4.0


def equivalent_boxes(boxes):
    """The four packings of the same rotated box: yaw + k * 90 degrees, x/y sizes swapped.

    Args:
        boxes: float tensor (..., 7).

    Returns:
        A float tensor (4, ..., 7): the same boxes turned by 0, 90, 180 and 270 degrees with
        the sizes along x and y swapped for the odd turns, yaws wrapped to [-pi, pi).
    """
    boxes = ops.cast(ops.convert_to_tensor(boxes), "float32")
    centre, size, yaw = boxes[..., :3], boxes[..., 3:6], boxes[..., 6:]
    swapped = ops.stack([size[..., 1], size[..., 0], size[..., 2]], axis=-1)
    packings = []
    for turn in range(4):
        turned = ops.mod(yaw + turn * math.pi / 2 + math.pi, 2 * math.pi) - math.pi
        packings.append(ops.concatenate([centre, swapped if turn % 2 else size, turned], axis=-1))
    return ops.stack(packings)


def voxel_box_targets(voxel_instance_labels, box_centers, box_sizes, box_rotations, box_classes):
    """Per-voxel detection targets: each voxel of an object regresses that object's box.

    A voxel whose instance label is `k >= 1` belongs to object `k`, the `k`-th box of its
    scene (the instance labels of `synthetic_scenes`, ScanNet and Waymo follow the order of the
    boxes): its target is that box and its class. Voxels with instance 0 (floor, walls,
    unlabelled stuff) are background (class 0), padding voxels (label -1) get class -1.

    Args:
        voxel_instance_labels: int array (scenes, num_voxels).
        box_centers: list (one per scene) of float arrays (K, 3), in the frame of the voxel
            grid (subtract `voxel_origin` from world coordinates).
        box_sizes: list of float arrays (K, 3).
        box_rotations: list of float arrays (K,), yaw in radians.
        box_classes: list of int arrays (K,), class ids >= 1.

    Returns:
        `(boxes, classes)`: float32 (scenes, num_voxels, 7) and int32 (scenes, num_voxels).
    """
    labels = np.asarray(voxel_instance_labels)
    if labels.ndim != 2:
        raise ValueError(
            "`voxel_instance_labels` must be an int array (scenes, num_voxels). "
            f"Received: shape={labels.shape}"
        )
    boxes = np.zeros(labels.shape + (7,), "float32")
    classes = np.where(labels < 0, -1, 0).astype("int32")
    for scene in range(labels.shape[0]):
        packed = np.concatenate(
            [
                np.reshape(box_centers[scene], (-1, 3)),
                np.reshape(box_sizes[scene], (-1, 3)),
                np.reshape(box_rotations[scene], (-1, 1)),
            ],
            axis=-1,
        )
        scene_classes = np.reshape(box_classes[scene], (-1,))
        if len(scene_classes) and scene_classes.min() < 1:
            raise ValueError(
                "`box_classes` must be >= 1 (0 is the background). "
                f"Received: {scene_classes.tolist()} for scene {scene}"
            )
        objects = labels[scene] > 0
        if objects.any() and labels[scene][objects].max() > len(packed):
            raise ValueError(
                f"Scene {scene} has voxels of instance {labels[scene][objects].max()} but only "
                f"{len(packed)} boxes. Received: box count={len(packed)}"
            )
        index = labels[scene][objects] - 1
        boxes[scene][objects] = packed[index]
        classes[scene][objects] = scene_classes[index]
    return boxes, classes


@keras.saving.register_keras_serializable(package="keras_suite")
class ObjectDetection3D(PresetMixin, keras.Model):
    """3D object detection with per-voxel box votes: a `SparseUNet3D` and box/class heads.

    The object detection pipeline of TensorFlow 3D (Najibi et al., 2020, "DOPS" and the TF3D
    library): every voxel predicts one box rotated about the up axis and class scores.
    1x1x1 `SparseConv3D` heads on the U-Net's features give the box centre as an offset from
    the voxel's centre, the size as `exp` of the output, and the yaw as `atan2` of a predicted
    (sin, cos) pair; boxes are packed as `(cx, cy, cz, sx, sy, sz, yaw)` in metres, in the
    frame of the voxel grid (voxel `(i, j, k)` has its centre at `((i, j, k) + 0.5) *
    voxel_size`). Training (`compute_loss`, so compile with an optimizer only) combines
    `BoxCornerLoss3D` over the voxels of objects, taking the smallest of the four equivalent
    packings of the ground-truth box (a box turned by 90 degrees with its sizes swapped is
    the same box), and `DynamicBoxClassificationLoss3D`. At inference, `predict_boxes` keeps
    the confident voxels and merges their boxes by per-class rotated 3D non-maximum
    suppression.

    Args:
        backbone: a `SparseUNet3D`.
        num_classes: int, the number of object classes; class 0 is the background and the
            class head has `num_classes + 1` outputs.
        voxel_size: float, the voxels' edge in metres.
        iou_threshold: the dynamic classification loss's IoU for positives.
        corner_loss_delta: the Huber threshold of the corner loss, in metres.
        box_loss_weight: weight of the corner loss in the total loss.
        classification_loss_weight: weight of the classification loss.
        **kwargs: base `keras.Model` arguments.

    Call arguments:
        inputs: dict with `voxel_features`, `voxel_xyz_indices` and `num_valid_voxels`.
        training: whether to run in training mode.

    Returns:
        A dict: `boxes` float (batch, num_voxels, 7) and `class_logits` float (batch,
        num_voxels, num_classes + 1), zeros on padding rows.

    Example:

    ```python
    backbone = keras_suite.zoo.SparseUNet3D([[16], [32]], [32], [[32], [16]])
    model = keras_suite.zoo.ObjectDetection3D(backbone, num_classes=3, voxel_size=0.15)
    model.compile()  # Adam(1e-3); the loss is the model's own `compute_loss`
    # model.fit(voxel_inputs, {"boxes": voxel_boxes, "classes": voxel_classes})
    detections = model.predict_boxes(voxel_inputs)  # one dict of boxes, scores, classes a scene
    ```
    """

    preset_dir = os.path.join(os.path.dirname(__file__), "presets", "object_detection3d")

    def __init__(
        self,
        backbone,
        num_classes,
        voxel_size,
        iou_threshold=0.5,
        corner_loss_delta=1.0,
        box_loss_weight=1.0,
        classification_loss_weight=1.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        backbone = resolve_backbone(backbone)
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(
                f"`num_classes` must be a positive int. Received: num_classes={num_classes!r}"
            )
        if not isinstance(voxel_size, (int, float)) or not voxel_size > 0:
            raise ValueError(
                f"`voxel_size` must be a positive float. Received: voxel_size={voxel_size!r}"
            )
        self.backbone = backbone
        self.num_classes = num_classes
        self.voxel_size = float(voxel_size)
        self.iou_threshold = iou_threshold
        self.corner_loss_delta = corner_loss_delta
        self.box_loss_weight = box_loss_weight
        self.classification_loss_weight = classification_loss_weight
        # Zero heads start every voxel at a 1 m cube on its own centre, yaw 0, uniform scores.
        self.box_head = SparseConv3D(
            8, 1, kernel_initializer="zeros", dtype=self.dtype_policy, name="box_head"
        )
        self.class_head = SparseConv3D(
            num_classes + 1,
            1,
            kernel_initializer="zeros",
            dtype=self.dtype_policy,
            name="class_head",
        )
        self.corner_loss = BoxCornerLoss3D(delta=corner_loss_delta, reduction=None)
        self.classification_loss = DynamicBoxClassificationLoss3D(iou_threshold=iou_threshold)
        self.box_loss_tracker = keras.metrics.Mean(name="box_corner_loss")
        self.classification_loss_tracker = keras.metrics.Mean(name="classification_loss")

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Configures training; "auto" gives the recipes' settings.

        The loss is always the model's own `compute_loss` (corner and classification losses).

        Args:
            optimizer: "auto" for `keras.optimizers.Adam(1e-3)`, or an optimizer.
            loss: "auto" or None.
            metrics: "auto" for none, or metrics.
            **kwargs: other `keras.Model.compile` arguments.
        """
        if loss not in ("auto", None):
            raise ValueError(
                "`ObjectDetection3D` computes its own loss: leave `loss` out. "
                f"Received: loss={loss!r}"
            )
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(1e-3)
        if metrics == "auto":
            metrics = None
        super().compile(optimizer=optimizer, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        compile_from_saved_config(self, config)

    def build(self, inputs_shape):
        if not self.backbone.built:
            self.backbone.build(inputs_shape)
        self.box_head.build((None, None, self.backbone.output_channels))
        self.class_head.build((None, None, self.backbone.output_channels))
        self.built = True

    def call(self, inputs, training=None):
        check_voxel_inputs(inputs)
        xyz = ops.convert_to_tensor(inputs["voxel_xyz_indices"])
        num_valid = ops.convert_to_tensor(inputs["num_valid_voxels"])
        features = self.backbone(inputs, training=training)
        raw = ops.cast(self.box_head(features, xyz, num_valid), "float32")
        logits = self.class_head(features, xyz, num_valid)
        centre = (ops.cast(xyz, "float32") + 0.5) * self.voxel_size + raw[..., :3]
        size = ops.exp(ops.clip(raw[..., 3:6], -MAX_LOG_SIZE, MAX_LOG_SIZE))
        yaw = ops.arctan2(raw[..., 6], raw[..., 7] + 1.0)
        boxes = ops.concatenate([centre, size, yaw[..., None]], axis=-1)
        valid = ops.arange(ops.shape(xyz)[1], dtype="int32")[None, :] < num_valid[:, None]
        boxes = ops.where(valid[..., None], boxes, 0.0)
        return {"boxes": ops.cast(boxes, logits.dtype), "class_logits": logits}

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if not isinstance(y, dict) or "boxes" not in y or "classes" not in y:
            received = sorted(y) if isinstance(y, dict) else type(y).__name__
            raise ValueError(
                "Targets must be a dict with `boxes` (batch, num_voxels, 7) and `classes` "
                f"(batch, num_voxels) (see `voxel_box_targets`). Received: {received}"
            )
        true_boxes = ops.cast(y["boxes"], "float32")
        classes = ops.cast(y["classes"], "int32")
        pred_boxes = ops.cast(y_pred["boxes"], "float32")
        logits = ops.cast(y_pred["class_logits"], "float32")
        packings = equivalent_boxes(true_boxes)
        corner = ops.min(
            ops.stack([self.corner_loss(packings[turn], pred_boxes) for turn in range(4)]), axis=0
        )
        objects = ops.cast(classes > 0, "float32")
        box_loss = ops.sum(corner * objects) / ops.maximum(ops.sum(objects), 1.0)
        packed_true = ops.concatenate(
            [true_boxes, ops.cast(classes, "float32")[..., None]], axis=-1
        )
        classification = self.classification_loss(
            packed_true, ops.concatenate([pred_boxes, logits], axis=-1)
        )
        self.box_loss_tracker.update_state(box_loss)
        self.classification_loss_tracker.update_state(classification)
        total = self.box_loss_weight * box_loss + self.classification_loss_weight * classification
        for loss in self.losses:
            total = total + ops.cast(loss, "float32")
        return total

    def predict_boxes(
        self,
        inputs,
        voxel_origin=None,
        score_threshold=0.1,
        iou_threshold=0.3,
        max_candidates=1000,
        max_detections=100,
    ):
        """Detected boxes of each scene: confident voxels merged by per-class 3D NMS.

        Each valid voxel votes for its best non-background class with that class's softmax
        probability as the score; votes at or above `score_threshold` (at most
        `max_candidates` per scene, the best first) go through
        `keras_suite.ops.non_max_suppression_3d` class by class.

        Args:
            inputs: the model's voxel inputs (a batch of scenes).
            voxel_origin: optional float (batch, 3) from `voxelize`: added to the box centres
                to give world coordinates.
            score_threshold: the smallest score kept.
            iou_threshold: boxes of one class overlapping a better one above this are
                suppressed.
            max_candidates: the most voxel votes per scene given to NMS.
            max_detections: the most boxes returned per scene.

        Returns:
            A list (one per scene) of dicts of numpy arrays: `boxes` (K, 7), `scores` (K,) and
            `classes` (K,) (ids 1..num_classes), sorted by decreasing score.
        """
        outputs = self.predict_on_batch(inputs)
        boxes = np.asarray(outputs["boxes"], "float32")
        logits = np.asarray(outputs["class_logits"], "float32")
        probabilities = np.exp(logits - logits.max(-1, keepdims=True))
        probabilities /= probabilities.sum(-1, keepdims=True)
        num_valid = np.asarray(inputs["num_valid_voxels"])
        if voxel_origin is not None:
            boxes = boxes.copy()
            boxes[..., :3] += np.asarray(voxel_origin, "float32")[:, None, :]
        detections = []
        for scene in range(len(num_valid)):
            scene_boxes = boxes[scene, : num_valid[scene]]
            objects = probabilities[scene, : num_valid[scene], 1:]
            classes = objects.argmax(-1) + 1
            scores = objects.max(-1)
            candidates = np.flatnonzero(scores >= score_threshold)
            candidates = candidates[np.argsort(-scores[candidates], kind="stable")]
            candidates = candidates[:max_candidates]
            kept = []
            for class_id in np.unique(classes[candidates]):
                members = candidates[classes[candidates] == class_id]
                keep = non_max_suppression_3d(
                    scene_boxes[members], scores[members], iou_threshold, max_detections
                )
                kept.append(members[np.asarray(keep)])
            kept = np.concatenate(kept) if kept else np.zeros((0,), "int64")
            kept = kept[np.argsort(-scores[kept], kind="stable")][:max_detections]
            detections.append(
                {
                    "boxes": scene_boxes[kept],
                    "scores": scores[kept],
                    "classes": classes[kept].astype("int32"),
                }
            )
        return detections

    def compute_output_shape(self, inputs_shape):
        shape = inputs_shape["voxel_features"]
        return {
            "boxes": (shape[0], shape[1], 7),
            "class_logits": (shape[0], shape[1], self.num_classes + 1),
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "backbone": keras.saving.serialize_keras_object(self.backbone),
                "num_classes": self.num_classes,
                "voxel_size": self.voxel_size,
                "iou_threshold": self.iou_threshold,
                "corner_loss_delta": self.corner_loss_delta,
                "box_loss_weight": self.box_loss_weight,
                "classification_loss_weight": self.classification_loss_weight,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["backbone"] = keras.saving.deserialize_keras_object(config["backbone"])
        return cls(**config)
