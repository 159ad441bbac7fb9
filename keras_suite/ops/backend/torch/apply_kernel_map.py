"""Sparse convolution over a kernel map with PyTorch: only neighbour pairs that exist."""

import torch


def apply_kernel_map(features, table, kernel):
    """Sums `features[table[:, o]] @ kernel[o]` over offsets `o` where `table[:, o] >= 0`.

    The existing pairs of each offset are found with `torch.nonzero`, their input rows
    gathered and multiplied by that offset's matrix, and the products added into their output
    rows with `index_add_` (autograd turns it into a gather of the output gradient).

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
    table = table.to(torch.int64).t()
    outputs = torch.where(table[centre, :, None] >= 0, features, 0.0) @ kernel[centre]
    for offset in range(volume):
        if offset == centre:
            continue
        column = table[offset]
        rows = torch.nonzero(column >= 0).squeeze(1)
        products = features.index_select(0, column.index_select(0, rows)) @ kernel[offset]
        outputs.index_add_(0, rows, products)
    return outputs
