"""Sparse voxel layers (TensorFlow 3D)."""

from keras_suite.layers.sparse.sparse_avg_pool3d import SparseAvgPool3D
from keras_suite.layers.sparse.sparse_batch_normalization import SparseBatchNormalization
from keras_suite.layers.sparse.sparse_conv3d import SparseConv3D
from keras_suite.layers.sparse.sparse_max_pool3d import SparseMaxPool3D
from keras_suite.layers.sparse.sparse_unpool3d import SparseUnpool3D
