from keras_suite.ops.lambda_returns import lambda_returns
from keras_suite.ops.sparse_kernel_map import build_kernel_map
from keras_suite.ops.sparse_pool_indices import pool_voxel_indices
from keras_suite.ops.static_scan import static_scan
from keras_suite.ops.voxelize import Voxels, devoxelize, voxelize
