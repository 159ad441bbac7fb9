"""Average precision of 3D box detections at fixed IoU thresholds (ScanNet / TF3D style)."""

import keras
import numpy as np

from keras_suite.metrics.instance_ap_3d import average_precision
from keras_suite.ops.rotated_box_iou_3d import rotated_box_iou_3d


@keras.saving.register_keras_serializable(package="keras_suite")
class DetectionAP3D(keras.metrics.Metric):
    """Mean over classes of the 3D average precision at each IoU threshold (AP@0.25, AP@0.5).

    The detection metric of TensorFlow 3D and ScanNet: for each class, the detections of
    every scene seen are sorted by decreasing score; a detection is a true positive when its
    best-overlapping ground-truth box of that class in its scene (rotated 3D IoU,
    `keras_suite.ops.rotated_box_iou_3d`) reaches the threshold and was not matched by a
    better-scoring detection, a false positive otherwise. AP is the all-point interpolated
    area under the precision-recall curve (`keras_suite.metrics.average_precision`); the result
    averages it over the classes that have ground truth. Detections are variable-length lists,
    so the state is kept in Python and the metric is updated eagerly (outside `model.fit`),
    e.g. with `ObjectDetection3D.predict_boxes`.

    Args:
        iou_thresholds: the IoU thresholds, `(0.25, 0.5)` by default.
        name: name of the metric.
        **kwargs: base `keras.metrics.Metric` arguments.

    Example:

    ```python
    metric = keras_suite.metrics.DetectionAP3D()
    box = np.array([[0.0, 0.0, 0.5, 1.0, 1.0, 1.0, 0.0]])
    metric.update_state(
        [{"boxes": box, "classes": np.array([1])}],
        [{"boxes": box + [0.4, 0, 0, 0, 0, 0, 0], "scores": np.array([0.9]),
          "classes": np.array([1])}],
    )
    metric.result()  # IoU 0.6/1.4 = 0.43: {"ap@0.25": 1.0, "ap@0.5": 0.0}
    ```
    """

    def __init__(self, iou_thresholds=(0.25, 0.5), name="detection_ap_3d", **kwargs):
        super().__init__(name=name, **kwargs)
        thresholds = tuple(float(t) for t in iou_thresholds)
        if not thresholds or any(not 0 < t <= 1 for t in thresholds):
            raise ValueError(
                "`iou_thresholds` must be a non-empty list of floats in (0, 1]. "
                f"Received: iou_thresholds={iou_thresholds!r}"
            )
        self.iou_thresholds = thresholds
        self.reset_state()

    def reset_state(self):
        self.scenes = []

    def update_state(self, y_true, y_pred, sample_weight=None):
        """Adds scenes: lists (one entry a scene) of ground-truth and detection dicts.

        Args:
            y_true: list of dicts with `boxes` (K, 7) and `classes` (K,).
            y_pred: list of dicts with `boxes` (D, 7), `scores` (D,) and `classes` (D,).
            sample_weight: unused; must be None.
        """
        if sample_weight is not None:
            raise ValueError(f"`sample_weight` is not supported. Received: {sample_weight!r}")
        if len(y_true) != len(y_pred):
            raise ValueError(
                "`y_true` and `y_pred` must list the same scenes. Received: "
                f"{len(y_true)} ground-truth scenes and {len(y_pred)} detection scenes"
            )
        for truth, detections in zip(y_true, y_pred):
            scene = {
                "true_boxes": _boxes(truth["boxes"], "y_true boxes"),
                "true_classes": np.reshape(np.asarray(truth["classes"], "int64"), (-1,)),
                "boxes": _boxes(detections["boxes"], "y_pred boxes"),
                "scores": np.reshape(np.asarray(detections["scores"], "float64"), (-1,)),
                "classes": np.reshape(np.asarray(detections["classes"], "int64"), (-1,)),
            }
            for prefix in ("true_", ""):
                if len(scene[prefix + "classes"]) != len(scene[prefix + "boxes"]):
                    raise ValueError(
                        "Every box needs one class (and each detection one score). Received: "
                        f"{len(scene[prefix + 'boxes'])} boxes and "
                        f"{len(scene[prefix + 'classes'])} classes"
                    )
            if len(scene["scores"]) != len(scene["boxes"]):
                raise ValueError(
                    f"Every detection needs one score. Received: {len(scene['boxes'])} boxes "
                    f"and {len(scene['scores'])} scores"
                )
            self.scenes.append(scene)

    def per_class_ap(self):
        """AP of each class with ground truth: `{threshold: {class_id: ap}}`."""
        classes = sorted({int(c) for s in self.scenes for c in s["true_classes"]})
        results = {t: {} for t in self.iou_thresholds}
        for class_id in classes:
            scores, scene_ids, rows, total = [], [], [], 0
            overlaps = []
            for index, scene in enumerate(self.scenes):
                truth = scene["true_boxes"][scene["true_classes"] == class_id]
                found = np.flatnonzero(scene["classes"] == class_id)
                total += len(truth)
                if len(truth) and len(found):
                    iou = np.asarray(
                        rotated_box_iou_3d(scene["boxes"][found][:, None], truth[None])
                    )
                else:
                    iou = np.zeros((len(found), len(truth)), "float32")
                overlaps.append(iou)
                scores.extend(scene["scores"][found])
                scene_ids.extend([index] * len(found))
                rows.extend(range(len(found)))
            scores = np.asarray(scores, "float64")
            order = np.argsort(-scores, kind="stable")
            for threshold in self.iou_thresholds:
                matched = [np.zeros(o.shape[1], bool) for o in overlaps]
                hits = np.zeros(len(order), bool)
                for rank, detection in enumerate(order):
                    iou = overlaps[scene_ids[detection]][rows[detection]]
                    if not len(iou):
                        continue
                    best = int(np.argmax(iou))
                    if iou[best] >= threshold and not matched[scene_ids[detection]][best]:
                        matched[scene_ids[detection]][best] = True
                        hits[rank] = True
                results[threshold][class_id] = average_precision(scores[order], hits, total)
        return results

    def result(self):
        results = {}
        for threshold, per_class in self.per_class_ap().items():
            value = float(np.mean(list(per_class.values()))) if per_class else 0.0
            results[f"ap@{threshold:g}"] = value
        return results

    def get_config(self):
        config = super().get_config()
        config.update({"iou_thresholds": list(self.iou_thresholds)})
        return config


def _boxes(boxes, name):
    boxes = np.asarray(boxes, "float32")
    if boxes.size == 0:
        return np.zeros((0, 7), "float32")
    if boxes.ndim != 2 or boxes.shape[-1] != 7:
        raise ValueError(f"`{name}` must have shape (num_boxes, 7). Received: shape={boxes.shape}")
    return boxes
