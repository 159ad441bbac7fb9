"""Rio / 3RScan scans (`rio` TFDS builder)."""

from keras_suite.datasets.rio.rio import Rio
