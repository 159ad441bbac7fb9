"""Waymo Open Dataset v1 lidar frames (`waymo_open_lidar` TFDS builder)."""

from keras_suite.datasets.waymo_open_lidar.waymo_open_lidar import WaymoOpenLidar
