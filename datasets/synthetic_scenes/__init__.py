"""`synthetic_scenes`: procedural indoor-like 3D scenes (the TF3D pipelines' built-in data)."""

from keras_suite.datasets.synthetic_scenes.scene_generator import CLASS_NAMES, generate_scene
from keras_suite.datasets.synthetic_scenes.synthetic_scenes import (
    SyntheticScenes,
    SyntheticScenesConfig,
)
from keras_suite.datasets.synthetic_scenes.voxel_batch import scenes_to_voxels
