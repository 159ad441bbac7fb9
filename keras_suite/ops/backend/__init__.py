"""Per-backend fast paths of `keras_suite.ops`, one small module per Keras backend."""
