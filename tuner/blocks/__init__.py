"""Built-in Model Search blocks for images, sequences and tabular data (registered on import)."""

from keras_suite.tuner.blocks import image_blocks, sequence_blocks, tabular_blocks
