"""Kernel map search with PyTorch: one int64 key per voxel and `torch.searchsorted`."""

import torch

# Fields of 16 bits hold `x + 8`, `y + 8` and `z + 8` (indices are checked to be below
# 2**15 - 16 before, so neighbours at offsets up to 8 stay inside their field) and the scene
# takes the bits above (up to 2**15 scenes). Padding rows get a key above every real one that
# still leaves room for the offsets without overflow.
FIELD_BITS = 16
MARGIN = 8
SENTINEL = 2**62


def neighbour_table(voxel_xyz_indices, valid, kernel_size):
    """The kernel map of checked voxel indices, and whether a scene repeats a voxel.

    The keys of the whole batch are sorted once; one `torch.searchsorted` per voxel and (dx, dy)
    column of the window finds the first key at or after `(x + dx, y + dy, z - r)`, and as keys
    are distinct the keys for dz = -r .. r can only follow at the next sorted rows.

    Args:
        voxel_xyz_indices: int32 tensor (batch, num_voxels, 3), in [0, 2**15 - 16] on valid rows.
        valid: bool tensor (batch, num_voxels).
        kernel_size: odd int, at most 17.

    Returns:
        A tuple `(table, repeated)`: int32 (batch, num_voxels, kernel_size**3), the row within
        the scene of the neighbour at each offset (x slowest, z fastest) or -1, and a bool
        scalar tensor, True when a scene holds a voxel twice.
    """
    batch, num_voxels = valid.shape
    device = voxel_xyz_indices.device
    if batch * num_voxels == 0:
        table = torch.full((batch, num_voxels, kernel_size**3), -1, dtype=torch.int32)
        return table.to(device), torch.tensor(False, device=device)
    xyz = voxel_xyz_indices.to(torch.int64) + MARGIN
    scene = torch.arange(batch, dtype=torch.int64, device=device)[:, None]
    keys = scene
    for axis in range(3):
        keys = keys * 2**FIELD_BITS + xyz[..., axis]
    keys = torch.where(valid, keys, SENTINEL).reshape(-1)
    sorted_keys, order = torch.sort(keys)
    repeated = torch.any((sorted_keys[1:] == sorted_keys[:-1]) & (sorted_keys[1:] != SENTINEL))
    radius = kernel_size // 2
    steps = torch.arange(-radius, radius + 1, dtype=torch.int64, device=device)
    deltas = (steps[:, None] * 2 ** (2 * FIELD_BITS) + steps[None, :] * 2**FIELD_BITS).reshape(-1)
    queries = (keys[:, None] + (deltas - radius)).reshape(-1)
    query_valid = valid.reshape(-1, 1).expand(-1, kernel_size**2).reshape(-1)
    position = torch.searchsorted(sorted_keys, queries)
    last = sorted_keys.shape[0] - 1
    rows = order % num_voxels
    columns = []
    for dz in range(kernel_size):
        at = torch.clamp(position, max=last)
        hit = (sorted_keys[at] == queries + dz) & query_valid
        columns.append(torch.where(hit, rows[at], -1))
        position = position + hit.to(torch.int64)
    table = torch.stack(columns, dim=-1).reshape(batch, num_voxels, kernel_size**3)
    return table.to(torch.int32), repeated
