"""`synthetic_scenes`: procedural indoor-like 3D scenes (the TF3D pipelines' built-in data).

The scene generator and `scene_voxels` need no TensorFlow Datasets; the TFDS builder
(`SyntheticScenes`, `SyntheticScenesConfig`) is imported on first access, as in
`keras_suite.datasets`.
"""

import importlib

from keras_suite.datasets.synthetic_scenes.augment_scene import augment_scene
from keras_suite.datasets.synthetic_scenes.scene_generator import (
    CLASS_NAMES,
    OBJECT_CLASSES,
    TEST_SEED_OFFSET,
    VALIDATION_SEED_OFFSET,
    generate_scene,
    scene_example,
)
from keras_suite.datasets.synthetic_scenes.scene_voxels import (
    MAX_VOXELS,
    NUM_POINTS,
    VOXEL_SIZE,
    scene_voxels,
)

_BUILDER_NAMES = ("SyntheticScenes", "SyntheticScenesConfig")


def __getattr__(name):
    if name in _BUILDER_NAMES:
        return getattr(importlib.import_module(f"{__name__}.synthetic_scenes"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_BUILDER_NAMES))
