"""TensorFlow 3D: the sparse voxel U-Net, the three task models and their recipes.

The recipes read scenes through `tf.data`, so they load on first access
(`keras_suite.zoo.tf3d.train_semantic_segmentation`): the models alone import no TensorFlow
under the other backends.
"""

import importlib

from keras_suite.zoo.tf3d.instance_segmentation3d import InstanceSegmentation3D
from keras_suite.zoo.tf3d.object_detection3d import ObjectDetection3D
from keras_suite.zoo.tf3d.semantic_segmentation3d import SemanticSegmentation3D
from keras_suite.zoo.tf3d.sparse_unet3d import SparseUNet3D

# Recipe -> the module defining it.
_RECIPES = {
    "train_semantic_segmentation": "semantic_recipes",
    "evaluate_semantic_segmentation": "semantic_recipes",
    "train_instance_segmentation": "instance_recipes",
    "evaluate_instance_segmentation": "instance_recipes",
    "train_object_detection": "detection_recipes",
    "evaluate_object_detection": "detection_recipes",
}


def __getattr__(name):
    if name in _RECIPES:
        return getattr(importlib.import_module(f"{__name__}.{_RECIPES[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + list(_RECIPES))
