"""TensorFlow 3D: the sparse voxel U-Net, the three task models and their recipes."""

from keras_suite.zoo.tf3d.detection_recipes import (
    evaluate_object_detection,
    train_object_detection,
)
from keras_suite.zoo.tf3d.instance_recipes import (
    evaluate_instance_segmentation,
    train_instance_segmentation,
)
from keras_suite.zoo.tf3d.instance_segmentation3d import InstanceSegmentation3D
from keras_suite.zoo.tf3d.object_detection3d import ObjectDetection3D
from keras_suite.zoo.tf3d.semantic_recipes import (
    evaluate_semantic_segmentation,
    train_semantic_segmentation,
)
from keras_suite.zoo.tf3d.semantic_segmentation3d import SemanticSegmentation3D
from keras_suite.zoo.tf3d.sparse_unet3d import SparseUNet3D
