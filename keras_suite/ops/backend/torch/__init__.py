"""The torch fast paths of `keras_suite.ops`."""
