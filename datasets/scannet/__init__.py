"""ScanNet v2 scenes (`scannet` TFDS builder)."""

from keras_suite.datasets.scannet.scannet import Scannet
