"""Turns generated scenes into padded sparse voxel batches for the TF3D models."""

import numpy as np

from keras_suite.ops.voxelize import voxelize

#: The voxel features `scenes_to_voxels` adds with `point_geometry=True`.
POINT_GEOMETRY_FEATURES = (
    "offset_x",
    "offset_y",
    "offset_z",
    "cov_xx",
    "cov_yy",
    "cov_zz",
    "cov_xy",
    "cov_xz",
    "cov_yz",
)


def scenes_to_voxels(
    scenes, voxel_size=0.1, max_voxels=6000, max_points=None, point_geometry=False
):
    """Voxelizes scenes (dicts from `generate_scene` or the TFDS builder) into numpy arrays.

    Voxel features are the mean colour and height (z, metres) of the voxel's points; a voxel's
    semantic and instance labels are the most common among its points. Padding voxels get the
    label -1. With `point_geometry`, 9 features follow (`POINT_GEOMETRY_FEATURES`): where the
    points lie inside the voxel and how they spread, which tells a flat face from a curved one
    or a corner: the mean offset of the points from the voxel's centre in voxel edges (in
    [-0.5, 0.5]), then the 6 entries of their covariance in squared voxel edges, times 12 (1
    for points spread evenly along a whole edge).

    Args:
        scenes: list of scene dicts with `points`, `colors`, `semantic_labels` and
            `instance_labels`.
        voxel_size: voxel edge in metres.
        max_voxels: padded number of voxels per scene.
        max_points: padded number of points per scene (default: the largest scene).
        point_geometry: whether to add the 9 point-geometry features.

    Returns:
        A dict of numpy arrays: `voxel_features` (S, max_voxels, 4), or 13 with
        `point_geometry`, `voxel_xyz_indices`,
        `num_valid_voxels`, `point_to_voxel` (S, max_points), `voxel_origin` (S, 3),
        `voxel_semantic_labels` and `voxel_instance_labels` (S, max_voxels), and the padded
        `points` (S, max_points, 3), `num_valid_points`, `semantic_labels`, `instance_labels`.
    """
    max_points = max_points or max(len(s["points"]) for s in scenes)
    count = len(scenes)
    points = np.zeros((count, max_points, 3), "float32")
    features = np.zeros((count, max_points, 4), "float32")
    semantic = -np.ones((count, max_points), "int32")
    instance = -np.ones((count, max_points), "int32")
    num_points = np.zeros((count,), "int32")
    for i, scene in enumerate(scenes):
        n = min(len(scene["points"]), max_points)
        num_points[i] = n
        points[i, :n] = scene["points"][:n]
        features[i, :n, :3] = scene["colors"][:n]
        features[i, :n, 3] = scene["points"][:n, 2]
        semantic[i, :n] = scene["semantic_labels"][:n]
        instance[i, :n] = scene["instance_labels"][:n]
    voxels = voxelize(points, features, num_points, voxel_size, max_voxels)
    point_to_voxel = voxels.point_to_voxel.numpy()
    voxel_features = voxels.voxel_features.numpy()
    if point_geometry:
        centres = voxels.voxel_origin.numpy()[:, None] + (
            voxels.voxel_xyz_indices.numpy() + 0.5
        ) * np.float32(voxel_size)
        geometry = _point_geometry(points, point_to_voxel, centres, voxel_size)
        voxel_features = np.concatenate([voxel_features, geometry], axis=-1)
    voxel_semantic = _majority(semantic, point_to_voxel, max_voxels)
    voxel_instance = _majority(instance, point_to_voxel, max_voxels)
    return {
        "voxel_features": voxel_features,
        "voxel_xyz_indices": voxels.voxel_xyz_indices.numpy(),
        "num_valid_voxels": voxels.num_valid_voxels.numpy(),
        "point_to_voxel": point_to_voxel,
        "voxel_origin": voxels.voxel_origin.numpy(),
        "voxel_semantic_labels": voxel_semantic,
        "voxel_instance_labels": voxel_instance,
        "points": points,
        "num_valid_points": num_points,
        "semantic_labels": semantic,
        "instance_labels": instance,
    }


def _point_geometry(points, point_to_voxel, centres, voxel_size):
    """Per-voxel mean offset and covariance (x12) of the points, in voxel edges (S, V, 9)."""
    count, max_voxels = centres.shape[:2]
    geometry = np.zeros((count, max_voxels, 9), "float32")
    pairs = ((0, 0), (1, 1), (2, 2), (0, 1), (0, 2), (1, 2))
    for i in range(count):
        keep = point_to_voxel[i] >= 0
        voxel = point_to_voxel[i][keep]
        offsets = (points[i][keep] - centres[i][voxel]).astype("float64") / voxel_size
        moments = np.concatenate(
            [offsets, np.stack([offsets[:, a] * offsets[:, b] for a, b in pairs], -1)], -1
        )
        sums = np.zeros((max_voxels, 9))
        np.add.at(sums, voxel, moments)
        counts = np.bincount(voxel, minlength=max_voxels)[:, None]
        means = sums / np.maximum(counts, 1)
        product = np.stack([means[:, a] * means[:, b] for a, b in pairs], -1)
        geometry[i, :, :3] = means[:, :3]
        geometry[i, :, 3:] = 12 * (means[:, 3:] - product) * (counts > 0)
    return geometry


def _majority(labels, point_to_voxel, max_voxels):
    out = -np.ones(point_to_voxel.shape[:1] + (max_voxels,), "int32")
    for i in range(len(labels)):
        keep = (point_to_voxel[i] >= 0) & (labels[i] >= 0)
        if not keep.any():
            continue
        num_labels = labels[i][keep].max() + 1
        votes = np.zeros((max_voxels, num_labels), "int64")
        np.add.at(votes, (point_to_voxel[i][keep], labels[i][keep]), 1)
        occupied = votes.sum(axis=1) > 0
        out[i, occupied] = votes[occupied].argmax(axis=1)
    return out
