from keras_suite.ops.group_instances import Instances, group_instances
from keras_suite.ops.lambda_returns import lambda_returns
from keras_suite.ops.nms_3d import non_max_suppression_3d
from keras_suite.ops.replicas import cross_replica_sum, num_replicas_in_sync
from keras_suite.ops.rotated_box_iou_3d import box_footprints, rotated_box_iou_3d
from keras_suite.ops.sparse_kernel_map import apply_kernel_map, build_kernel_map
from keras_suite.ops.sparse_pool_indices import pool_voxel_indices
from keras_suite.ops.static_scan import static_scan
from keras_suite.ops.voxelize import Voxels, devoxelize, voxelize
