"""The jax fast paths of `keras_suite.ops`."""
