"""Turns generated scenes into padded sparse voxel batches for the TF3D models."""

import numpy as np

from keras_suite.ops.voxelize import voxelize


def scenes_to_voxels(scenes, voxel_size=0.1, max_voxels=6000, max_points=None):
    """Voxelizes scenes (dicts from `generate_scene` or the TFDS builder) into numpy arrays.

    Voxel features are the mean colour and height (z, metres) of the voxel's points; a voxel's
    semantic and instance labels are the most common among its points. Padding voxels get the
    label -1.

    Args:
        scenes: list of scene dicts with `points`, `colors`, `semantic_labels` and
            `instance_labels`.
        voxel_size: voxel edge in metres.
        max_voxels: padded number of voxels per scene.
        max_points: padded number of points per scene (default: the largest scene).

    Returns:
        A dict of numpy arrays: `voxel_features` (S, max_voxels, 4), `voxel_xyz_indices`,
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
    voxel_semantic = _majority(semantic, point_to_voxel, max_voxels)
    voxel_instance = _majority(instance, point_to_voxel, max_voxels)
    return {
        "voxel_features": voxels.voxel_features.numpy(),
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
