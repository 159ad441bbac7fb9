"""Inputs shared by the TF3D task model tests: voxelized synthetic scenes and a fixed scene."""

import numpy as np

from keras_suite.datasets.voxel_transform import voxel_transform


def scenes_to_voxels(scenes, voxel_size, max_voxels):
    """Voxelizes scene dicts through `voxel_transform`; labels -1 where a voxel has none."""
    import tensorflow as tf

    transform = voxel_transform("synthetic_scenes", voxel_size, max_voxels)
    keys = ("points", "colors", "semantic_labels", "instance_labels")
    rows = [transform({k: tf.constant(scene[k]) for k in keys}) for scene in scenes]
    data = {k: np.stack([inputs[k] for inputs, _ in rows]) for k in rows[0][0]}
    for key in ("voxel_semantic_labels", "voxel_instance_labels"):
        data[key] = np.stack(
            [np.where(t["voxel_loss_weights"] > 0, t[key], -1) for _, t in rows]
        ).astype("int32")
    return data


def preset_inputs(channels):
    """A fixed scene of 40 voxels (36 valid) for comparing presets across backends."""
    xyz = np.stack(np.unravel_index(np.arange(0, 64 * 7, 7)[:40], (8, 8, 8)), -1)
    features = np.cos(np.arange(40 * channels, dtype="float32")).reshape(40, channels)
    return {
        "voxel_features": features[None],
        "voxel_xyz_indices": xyz.astype("int32")[None],
        "num_valid_voxels": np.array([36], "int32"),
    }
