"""Greedy non-maximum suppression of 3D boxes rotated about the up axis."""

import numpy as np
from keras import ops

from keras_suite.ops.rotated_box_iou_3d import rotated_box_iou_3d


def non_max_suppression_3d(
    boxes, scores, iou_threshold=0.5, max_output_size=None, score_threshold=None
):
    """Indices of the boxes kept by greedy 3D NMS, best score first.

    Boxes are visited by decreasing score (ties keep their input order); a box is kept unless
    its rotated 3D IoU (`rotated_box_iou_3d`) with an already kept box exceeds
    `iou_threshold`. The IoU of each kept box with all boxes is computed once, so memory stays
    linear in the number of boxes. A post-processing step on a variable number
    of boxes: it takes and returns numpy, loops in Python and computes the IoUs with
    `keras.ops` on the current backend.

    Args:
        boxes: float array (num_boxes, 7), `(cx, cy, cz, sx, sy, sz, yaw)`.
        scores: float array (num_boxes,).
        iou_threshold: float in [0, 1]; overlaps strictly above it are suppressed.
        max_output_size: optional int, the most boxes kept.
        score_threshold: optional float; boxes scoring below it are dropped first.

    Returns:
        An int64 numpy array of kept indices into `boxes`, by decreasing score.

    Example:

    ```python
    boxes = np.array([[0, 0, 0, 2, 2, 2, 0], [0.1, 0, 0, 2, 2, 2, 0], [5, 0, 0, 1, 1, 1, 0.3]])
    keras_suite.ops.non_max_suppression_3d(boxes, np.array([0.9, 0.8, 0.7]), 0.5)  # [0, 2]
    ```
    """
    boxes = np.asarray(ops.convert_to_numpy(boxes), "float32")
    scores = np.asarray(ops.convert_to_numpy(scores), "float32")
    if boxes.ndim != 2 or boxes.shape[-1] != 7:
        raise ValueError(
            "`boxes` must have shape (num_boxes, 7), packed as (cx, cy, cz, sx, sy, sz, yaw). "
            f"Received: shape={boxes.shape}"
        )
    if scores.shape != boxes.shape[:1]:
        raise ValueError(
            f"`scores` must have shape ({boxes.shape[0]},), one per box. "
            f"Received: shape={scores.shape}"
        )
    if not 0 <= iou_threshold <= 1:
        raise ValueError(
            f"`iou_threshold` must be in [0, 1]. Received: iou_threshold={iou_threshold!r}"
        )
    if not np.all(np.isfinite(boxes)) or not np.all(np.isfinite(scores)):
        raise ValueError("`boxes` and `scores` must be finite. Received: NaN or inf values")
    order = np.argsort(-scores, kind="stable")
    if score_threshold is not None:
        order = order[scores[order] >= score_threshold]
    limit = len(order) if max_output_size is None else int(max_output_size)
    kept = []
    while len(order) and len(kept) < limit:
        best = order[0]
        kept.append(best)
        rest = order[1:]
        if not len(rest):
            break
        # Against all boxes, so that every call has the same shapes (JAX compiles each op once
        # per shape).
        overlap = ops.convert_to_numpy(rotated_box_iou_3d(boxes[best][None], boxes))
        order = rest[overlap[rest] <= iou_threshold]
    return np.array(kept, "int64")
