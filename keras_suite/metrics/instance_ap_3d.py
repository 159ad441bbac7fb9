"""Average precision of 3D instance segmentation over IoU thresholds (ScanNet style)."""

import keras
import numpy as np

IOU_THRESHOLDS = (0.25,) + tuple(np.round(np.arange(0.5, 0.951, 0.05), 2))


def average_precision(scores, true_positives, num_true):
    """All-point interpolated average precision of scored detections.

    Args:
        scores: float array (num_predictions,).
        true_positives: bool array (num_predictions,), whether each prediction was matched.
        num_true: int, the number of ground-truth instances.

    Returns:
        The area under the precision-recall curve whose precision at each recall is the best
        precision at that recall or higher (as in PASCAL VOC 2010+ and ScanNet's evaluation);
        NaN when `num_true` is 0.
    """
    if num_true == 0:
        return float("nan")
    order = np.argsort(-np.asarray(scores, "float64"), kind="stable")
    hits = np.asarray(true_positives, "float64")[order]
    tp = np.cumsum(hits)
    precision = tp / np.arange(1, len(hits) + 1)
    recall = tp / num_true
    envelope = np.maximum.accumulate(precision[::-1])[::-1] if len(hits) else precision
    previous = np.concatenate([[0.0], recall[:-1]])
    return float(np.sum((recall - previous) * envelope))


def _as_array(x, name, rank, integer):
    array = np.asarray(keras.ops.convert_to_numpy(x))
    if array.ndim != rank or (
        integer and array.size and not np.issubdtype(array.dtype, np.integer)
    ):
        kind = "int" if integer else "float"
        raise ValueError(
            f"`{name}` must be a rank-{rank} {kind} array. Received: "
            f"dtype={array.dtype}, shape={array.shape}"
        )
    return array


@keras.saving.register_keras_serializable(package="keras_suite")
class InstanceAP3D(keras.metrics.Metric):
    """Per-class average precision of predicted 3D instances, at several IoU thresholds.

    The ScanNet instance segmentation benchmark's measure, as used by TensorFlow 3D: in each
    scene, predicted instances of a class are taken in decreasing score order and each is
    matched to the not yet matched ground-truth instance of the same class with the highest
    point IoU; it is a true positive when that IoU is at least the threshold, a false positive
    otherwise. Over all scenes seen, the average precision of each class
    (`average_precision`) is computed per IoU threshold. `result()` returns `ap` (the mean
    over thresholds 0.5, 0.55, ..., 0.95 and over classes: ScanNet's AP), `ap_50` and `ap_25`
    (means over classes at 0.5 and 0.25); a class without ground-truth instances is left out of
    the means. The state is kept in numpy on the host, so call `update_state` eagerly (e.g.
    after `InstanceSegmentation3D.predict_instances`), not inside `compile(metrics=...)`.

    Args:
        num_classes: int, the number of semantic classes.
        class_ids: the classes evaluated (default: all); e.g. the furniture classes only.
        ignore_label: semantic label of points that count nowhere (padding).
        name: name of the metric.
        **kwargs: base `keras.metrics.Metric` arguments.

    Update arguments:
        true_instance_ids: int (batch, num_points), the ground-truth instance of each point, or
            a negative id for none (floor, walls). Ids are compared within a scene only.
        true_classes: int (batch, num_points), each point's semantic label or `ignore_label`;
            a ground-truth instance's class is the most common label among its points.
        pred_instance_ids: int (batch, num_points), the predicted instance of each point (an
            index into the next two arguments) or -1.
        pred_classes: int (batch, max_instances), each predicted instance's class; -1 marks an
            unused slot.
        pred_scores: float (batch, max_instances), each predicted instance's confidence.

    Example:

    ```python
    metric = keras_suite.metrics.InstanceAP3D(num_classes=2, class_ids=[1])
    metric.update_state(
        true_instance_ids=np.array([[0, 0, 1, 1, -1]]),
        true_classes=np.array([[1, 1, 1, 1, 0]]),
        pred_instance_ids=np.array([[0, 0, 0, 1, -1]]),
        pred_classes=np.array([[1, 1]]),
        pred_scores=np.array([[0.9, 0.8]]),
    )
    # IoUs 2/3 and 1/2: both match up to 0.5, only the first from 0.55 to 0.65, none above
    metric.result()  # {"ap": 0.25, "ap_50": 1.0, "ap_25": 1.0}
    ```
    """

    def __init__(
        self, num_classes, class_ids=None, ignore_label=-1, name="instance_ap_3d", **kwargs
    ):
        super().__init__(name=name, **kwargs)
        if not isinstance(num_classes, int) or num_classes < 1:
            raise ValueError(
                f"`num_classes` must be a positive int. Received: num_classes={num_classes!r}"
            )
        class_ids = list(range(num_classes)) if class_ids is None else [int(c) for c in class_ids]
        if not class_ids or any(c < 0 or c >= num_classes for c in class_ids):
            raise ValueError(
                f"`class_ids` must be a non-empty list of ids in [0, {num_classes}). "
                f"Received: class_ids={class_ids!r}"
            )
        self.num_classes = num_classes
        self.class_ids = class_ids
        self.ignore_label = ignore_label
        self.reset_state()

    def reset_state(self):
        shape = (len(IOU_THRESHOLDS), self.num_classes)
        self._scores = [[[] for _ in range(shape[1])] for _ in range(shape[0])]
        self._hits = [[[] for _ in range(shape[1])] for _ in range(shape[0])]
        self._num_true = np.zeros(self.num_classes, "int64")

    def update_state(
        self, true_instance_ids, true_classes, pred_instance_ids, pred_classes, pred_scores
    ):
        true_ids = _as_array(true_instance_ids, "true_instance_ids", 2, True)
        labels = _as_array(true_classes, "true_classes", 2, True)
        pred_ids = _as_array(pred_instance_ids, "pred_instance_ids", 2, True)
        classes = _as_array(pred_classes, "pred_classes", 2, True)
        scores = _as_array(pred_scores, "pred_scores", 2, False)
        if not (true_ids.shape == labels.shape == pred_ids.shape) or not (
            classes.shape == scores.shape and classes.shape[0] == true_ids.shape[0]
        ):
            raise ValueError(
                "`true_instance_ids`, `true_classes` and `pred_instance_ids` must share the shape "
                "(batch, num_points), and `pred_classes` and `pred_scores` the shape "
                f"(batch, max_instances). Received: shapes {true_ids.shape}, {labels.shape}, "
                f"{pred_ids.shape}, {classes.shape}, {scores.shape}"
            )
        if np.any(pred_ids >= classes.shape[1]):
            raise ValueError(
                f"`pred_instance_ids` must be below max_instances={classes.shape[1]}. "
                f"Received: max id {pred_ids.max()}"
            )
        for scene in range(true_ids.shape[0]):
            self._update_scene(
                true_ids[scene], labels[scene], pred_ids[scene], classes[scene], scores[scene]
            )

    def _update_scene(self, true_ids, labels, pred_ids, classes, scores):
        valid = labels != self.ignore_label
        true_ids, labels, pred_ids = true_ids[valid], labels[valid], pred_ids[valid]
        gt_keys, gt_index = np.unique(np.where(true_ids >= 0, true_ids, -1), return_inverse=True)
        has_gt = gt_keys >= 0
        gt_class = np.array(
            [np.bincount(labels[gt_index == g]).argmax() for g in range(len(gt_keys))], "int64"
        )
        num_pred = len(classes)
        # intersection[g, p]: points in ground-truth instance g and predicted instance p.
        pred_slot = np.where(pred_ids >= 0, pred_ids, num_pred)
        intersection = np.zeros((len(gt_keys), num_pred + 1), "int64")
        np.add.at(intersection, (gt_index, pred_slot), 1)
        intersection = intersection[has_gt, :num_pred]
        gt_class = gt_class[has_gt]
        gt_size = np.bincount(gt_index, minlength=len(gt_keys))[has_gt]
        pred_size = np.bincount(pred_slot, minlength=num_pred + 1)[:num_pred]
        union = gt_size[:, None] + pred_size[None, :] - intersection
        iou = intersection / np.maximum(union, 1)
        for c in self.class_ids:
            gts = np.flatnonzero(gt_class == c)
            self._num_true[c] += len(gts)
            preds = np.flatnonzero((classes == c) & (pred_size > 0))
            preds = preds[np.argsort(-scores[preds], kind="stable")]
            for t, threshold in enumerate(IOU_THRESHOLDS):
                matched = np.zeros(len(gts), bool)
                for p in preds:
                    candidates = np.where(matched, -1.0, iou[gts, p])
                    best = int(np.argmax(candidates)) if len(gts) else -1
                    hit = best >= 0 and candidates[best] >= threshold
                    if hit:
                        matched[best] = True
                    self._scores[t][c].append(float(scores[p]))
                    self._hits[t][c].append(hit)

    def per_class_result(self):
        """Average precision as a float array (num_thresholds, num_classes), NaN where unused.

        Rows follow `IOU_THRESHOLDS` = (0.25, 0.5, 0.55, ..., 0.95).
        """
        table = np.full((len(IOU_THRESHOLDS), self.num_classes), np.nan)
        for t in range(len(IOU_THRESHOLDS)):
            for c in self.class_ids:
                table[t, c] = average_precision(
                    self._scores[t][c], self._hits[t][c], self._num_true[c]
                )
        return table

    def result(self):
        table = self.per_class_result()
        present = [c for c in self.class_ids if self._num_true[c] > 0]
        if not present:
            return {"ap": 0.0, "ap_50": 0.0, "ap_25": 0.0}
        table = table[:, present]
        return {
            "ap": float(np.mean(table[1:])),
            "ap_50": float(np.mean(table[1])),
            "ap_25": float(np.mean(table[0])),
        }

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "num_classes": self.num_classes,
                "class_ids": self.class_ids,
                "ignore_label": self.ignore_label,
            }
        )
        return config
