"""TFDS builders, registered with TFDS on import (`tfds.load("scannet", ...)`)."""

from keras_suite.datasets.ravens import Ravens
from keras_suite.datasets.rio import Rio
from keras_suite.datasets.scannet import Scannet
from keras_suite.datasets.synthetic_scenes import SyntheticScenes
from keras_suite.datasets.voxel_transform import (
    SCANNET20_CLASS_IDS,
    SCANNET_IGNORE_LABELS,
    voxel_transform,
)
from keras_suite.datasets.waymo_open_lidar import WaymoOpenLidar
