"""Sparse convolution over a kernel map with TensorFlow: only neighbour pairs that exist."""

import tensorflow as tf


def apply_kernel_map(features, table, kernel):
    """Sums `features[table[:, o]] @ kernel[o]` over offsets `o` where `table[:, o] >= 0`.

    Each offset's existing pairs are found with `tf.where`, their input rows gathered and
    multiplied by that offset's matrix, and the products added into their output rows with
    `tf.tensor_scatter_nd_add`, chained on one buffer (its gradient is a gather). Under XLA
    (`jit_compile=True`) `tf.where` gets a bounded dynamic shape, so the same code compiles.
    There is one scatter-add per offset: concatenating the pairs of two offsets into one
    scatter-add gave wrong kernel gradients under XLA in TensorFlow 2.21 (checked against a
    dense `Conv3D` in `tests/layers/sparse/sparse_conv3d_test.py`).

    Args:
        features: float tensor (rows, in_channels).
        table: int32 tensor (rows, volume), the input row of each output row's neighbour at
            every offset, or -1 where there is none.
        kernel: float tensor (volume, in_channels, filters).

    Returns:
        A float tensor (rows, filters).
    """
    volume = kernel.shape[0]
    centre = volume // 2
    table = tf.transpose(table)
    own = tf.where(table[centre][:, tf.newaxis] >= 0, features, tf.zeros_like(features))
    outputs = tf.matmul(own, kernel[centre])
    for offset in range(volume):
        if offset == centre:
            continue
        column = table[offset]
        rows = tf.where(column >= 0)
        products = tf.matmul(tf.gather(features, tf.gather(column, rows[:, 0])), kernel[offset])
        outputs = tf.tensor_scatter_nd_add(outputs, rows, products)
    return outputs
