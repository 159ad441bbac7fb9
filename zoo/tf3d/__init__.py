"""TensorFlow 3D: the sparse voxel U-Net and the 3D pipelines."""

from keras_suite.zoo.tf3d.instance_segmentation3d import InstanceSegmentation3D
from keras_suite.zoo.tf3d.object_detection3d import ObjectDetection3D
from keras_suite.zoo.tf3d.semantic_segmentation3d import SemanticSegmentation3D
from keras_suite.zoo.tf3d.sparse_unet3d import SparseUNet3D
