"""The tensorflow fast paths of `keras_suite.ops`."""
