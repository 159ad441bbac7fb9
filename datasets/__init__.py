"""TFDS builders for the 3D scenes and Ravens demonstrations, and the voxel transform.

TFDS registers a builder when its class is defined, and `tfds.load("scannet", ...)` finds only
registered builders. Importing a builder costs TensorFlow Datasets, so the builders are imported
on first access (`keras_suite.datasets.Scannet`), except when `tensorflow_datasets` is already
imported at the moment this package is: then every builder is registered at once, and
`import tensorflow_datasets as tfds`, then `import keras_suite.datasets`, then
`tfds.load("scannet", ...)` works.
"""

import importlib
import sys

from keras_suite.datasets.voxel_transform import (
    SCANNET20_CLASS_IDS,
    SCANNET_IGNORE_LABELS,
    voxel_transform,
)

# Builder class -> the sub-package defining it.
_BUILDERS = {
    "Ravens": "ravens",
    "Rio": "rio",
    "Scannet": "scannet",
    "SyntheticScenes": "synthetic_scenes",
    "WaymoOpenLidar": "waymo_open_lidar",
}


def __getattr__(name):
    if name in _BUILDERS:
        return getattr(importlib.import_module(f"{__name__}.{_BUILDERS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_BUILDERS))


def _register_builders():
    for name in _BUILDERS:
        __getattr__(name)


if "tensorflow_datasets" in sys.modules:
    _register_builders()
