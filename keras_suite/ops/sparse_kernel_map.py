"""Neighbour tables (kernel maps) for submanifold sparse 3D convolutions.

Sparse voxels are a padded batch, as in TensorFlow 3D: `voxel_xyz_indices` int32 of shape
(batch, num_voxels, 3) and `num_valid_voxels` int32 of shape (batch,); rows at or past
`num_valid_voxels` are padding. Every voxel of a scene is packed into two int32 words,
`high = (x + 8) << 15 | (y + 8)` and `low = z + 8`, the words of each scene are sorted once
(lexicographically), and the neighbours of all voxels at every kernel offset are found by a binary
search of a fixed number of steps. Every shape is static, so the code runs under JAX's `jit`,
and nothing needs int64 (which JAX lacks by default). Indices must lie below 2**15 - 16 = 32752
per axis (3.2 km at 0.1 m voxels).

The sort differs between backends (`keras_suite/ops/backend/*/lexsort.py`): TensorFlow and
PyTorch sort one int64 key, JAX sorts the two words with `jax.lax.sort`. TensorFlow and PyTorch
also have their own neighbour search (`backend/{tensorflow,torch}/neighbour_table.py`: one
int64 key per voxel and the framework's `searchsorted`, one kernel where the fixed-step search
is a loop of small ops), and each backend applies the kernel map its own way
(`backend/*/apply_kernel_map.py`).
"""

import functools
import importlib

import keras
import numpy as np
from keras import ops

AXIS_BITS = 15
MARGIN = 8
MAX_INDEX = 2**AXIS_BITS - 2 * MARGIN
SENTINEL = np.iinfo(np.int32).max


def check_value(condition, message):
    """Raises `ValueError(message)` when a concrete `condition` is False.

    Under TensorFlow graph tracing an assertion is added instead; under `jax.jit` tracing
    (where values are unknown) nothing is checked.
    """
    backend = keras.config.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        if not tf.executing_eagerly():
            tf.debugging.Assert(condition, [message])
            return
    elif backend == "jax":
        import jax

        if isinstance(condition, jax.core.Tracer):
            return
    if not bool(ops.convert_to_numpy(condition)):
        raise ValueError(message)


def backend_module(name):
    """`keras_suite.ops.backend.<backend>.<name>`, for the backend `keras.config.backend()`."""
    backend = keras.config.backend()
    if backend not in ("jax", "tensorflow", "torch"):
        raise ValueError(
            "Sparse voxel ops run on the jax, tensorflow and torch backends. Received: "
            f"backend={backend!r}"
        )
    return importlib.import_module(f"keras_suite.ops.backend.{backend}.{name}")


def lexsort_rows(high, low):
    """The int32 permutation (batch, n) sorting each row of `(high, low)` int32 pairs."""
    high, low = ops.convert_to_tensor(high, "int32"), ops.convert_to_tensor(low, "int32")
    return backend_module("lexsort").lexsort_rows(high, low)


@functools.cache
def compiled(fn, static_argnums=()):
    """`fn` under `jax.jit` on the JAX backend, `fn` itself on the others.

    Eager JAX dispatches (and compiles, per shape) every small op of the sort and search on its
    own; one jitted program per shape is compiled once. Inside an outer `jit` it is inlined.
    """
    if keras.config.backend() != "jax":
        return fn
    import jax

    return jax.jit(fn, static_argnums=static_argnums)


def search_steps(size):
    """Binary search steps that find any position in [0, size]; 31 when `size` is unknown."""
    return 31 if size is None else int(np.ceil(np.log2(size + 1)))


def search_sorted_keys(sorted_high, sorted_low, query_high, query_low):
    """First position of each query in lexicographically sorted rows (`searchsorted`, left).

    A fixed number of gather steps, so that shapes stay static on every backend.

    Args:
        sorted_high: int32 tensor (batch, n), sorted together with `sorted_low`.
        sorted_low: int32 tensor (batch, n).
        query_high: int32 tensor (batch, m).
        query_low: int32 tensor (batch, m).

    Returns:
        An int32 tensor (batch, m) in [0, n]: the first row whose pair is not below the query.
    """
    sorted_high, sorted_low, query_high, query_low = (
        ops.convert_to_tensor(x, "int32") for x in (sorted_high, sorted_low, query_high, query_low)
    )
    last = ops.shape(sorted_high)[1] - 1

    def step(_, bounds):
        low, high = bounds
        middle = (low + high) // 2
        at = ops.minimum(middle, last)
        value_high = ops.take_along_axis(sorted_high, at, axis=1)
        value_low = ops.take_along_axis(sorted_low, at, axis=1)
        below = (value_high < query_high) | ((value_high == query_high) & (value_low < query_low))
        right = below & (low < high)
        return ops.where(right, middle + 1, low), ops.where(right, high, middle)

    start = ops.zeros_like(query_high)
    bounds = (start, start + ops.shape(sorted_high)[1])
    return ops.fori_loop(0, search_steps(sorted_high.shape[1]), step, bounds)[0]


def validate_sparse_voxels(voxel_xyz_indices, num_valid_voxels):
    """Checks the padded-batch voxel format and returns the validity mask (batch, num_voxels).

    Args:
        voxel_xyz_indices: int32 tensor of shape (batch, num_voxels, 3).
        num_valid_voxels: int32 tensor of shape (batch,).

    Returns:
        A bool tensor of shape (batch, num_voxels), True on valid rows.
    """
    xyz_dtype = keras.backend.standardize_dtype(voxel_xyz_indices.dtype)
    xyz_shape = tuple(voxel_xyz_indices.shape)
    if xyz_dtype != "int32" or len(xyz_shape) != 3 or xyz_shape[-1] not in (None, 3):
        raise ValueError(
            "`voxel_xyz_indices` must be int32 of shape (batch, num_voxels, 3). Received: "
            f"dtype={xyz_dtype}, shape={xyz_shape}"
        )
    count_dtype = keras.backend.standardize_dtype(num_valid_voxels.dtype)
    if count_dtype != "int32" or len(num_valid_voxels.shape) != 1:
        raise ValueError(
            "`num_valid_voxels` must be int32 of shape (batch,). Received: "
            f"dtype={count_dtype}, shape={tuple(num_valid_voxels.shape)}"
        )
    num_voxels = ops.shape(voxel_xyz_indices)[1]
    check_value(
        ops.all((num_valid_voxels >= 0) & (num_valid_voxels <= num_voxels)),
        "`num_valid_voxels` must lie in [0, num_voxels] (the padded size of "
        "`voxel_xyz_indices`). Received a value outside that range.",
    )
    valid = ops.arange(num_voxels, dtype="int32")[None, :] < num_valid_voxels[:, None]
    in_range = ops.all((voxel_xyz_indices >= 0) & (voxel_xyz_indices <= MAX_INDEX), axis=-1)
    check_value(
        ops.all(in_range | ~valid),
        f"`voxel_xyz_indices` must lie in [0, {MAX_INDEX}] on valid rows. Received an index "
        "outside that range; shift the indices so that the scene starts at 0 (as "
        "`keras_suite.ops.voxelize` does).",
    )
    return valid


def pack_voxel_keys(voxel_xyz_indices, valid):
    """Packs (x, y, z) into two sortable int32 words; padding rows get the largest int32.

    Args:
        voxel_xyz_indices: int32 tensor of shape (batch, num_voxels, 3), in [0, MAX_INDEX].
        valid: bool tensor of shape (batch, num_voxels).

    Returns:
        A tuple `(high, low)` of int32 tensors (batch, num_voxels): `(x + 8) << 15 | (y + 8)`
        and `z + 8`. Keys compare within a scene only.
    """
    xyz = ops.cast(voxel_xyz_indices, "int32") + MARGIN
    high = xyz[..., 0] * 2**AXIS_BITS + xyz[..., 1]
    return ops.where(valid, high, SENTINEL), ops.where(valid, xyz[..., 2], SENTINEL)


def kernel_offsets(kernel_size):
    """The (kernel_size**3, 3) offsets in the order of a `Conv3D` kernel's first three axes."""
    radius = kernel_size // 2
    grid = np.arange(kernel_size) - radius
    offsets = np.stack(np.meshgrid(grid, grid, grid, indexing="ij"), axis=-1)
    return offsets.reshape(-1, 3).astype("int32")


def build_kernel_map(voxel_xyz_indices, num_valid_voxels, kernel_size=3):
    """Builds the neighbour table of a sparse voxel batch for one resolution level.

    Submanifold sparse convolutions (Graham et al., 2018) output only at the input's active
    voxels and read only active neighbours. This op finds, for every voxel and every offset of a
    `kernel_size`**3 window, the row of the neighbouring voxel in the same scene: each scene's
    packed keys are sorted once, and one binary search per (dx, dy) column of the window finds
    the first candidate (the dz neighbours follow at adjacent sorted rows). Every shape is
    static, so it runs under `jax.jit` (on TensorFlow it runs in graphs, not under XLA; see
    `backend/tensorflow/neighbour_table.py`). Compute it once per resolution level and pass it
    to every `SparseConv3D` at that level (`kernel_map=`), as `keras_suite.zoo.SparseUNet3D`
    does; a conv called without one builds its own. Duplicates and out-of-range indices raise
    a `ValueError` when values are known (eager calls); under `jax.jit` they are not checked.

    Args:
        voxel_xyz_indices: int32 tensor of shape (batch, num_voxels, 3), non-negative and below
            32752 on valid rows, with no voxel repeated within a scene.
        num_valid_voxels: int32 tensor of shape (batch,); rows at or past it are padding.
        kernel_size: odd int, the window's edge length.

    Returns:
        An int32 tensor of shape (batch, num_voxels, kernel_size**3): the row (within the same
        scene) of the neighbour at each offset, or -1 where there is none and on padding rows.
        Offsets are ordered like the first three axes of a `Conv3D` kernel (x slowest, z
        fastest), and offset `(dx, dy, dz)` reads the voxel at `(x + dx, y + dy, z + dz)`.

    Example:

    ```python
    xyz = np.array([[[0, 0, 0], [0, 0, 1], [5, 5, 5]]], "int32")
    table = keras_suite.ops.build_kernel_map(xyz, np.array([3], "int32"), kernel_size=3)
    table[0, 0, 14]  # 1: voxel 0's neighbour at offset (0, 0, +1) is row 1.
    ```
    """
    if not isinstance(kernel_size, int | np.integer) or kernel_size < 1 or kernel_size % 2 != 1:
        raise ValueError(
            "`kernel_size` must be a positive odd int (submanifold convolutions are centred). "
            f"Received: kernel_size={kernel_size!r}"
        )
    if kernel_size > 2 * MARGIN + 1:
        raise ValueError(
            f"`kernel_size` must be at most {2 * MARGIN + 1}. Received: kernel_size={kernel_size}"
        )
    voxel_xyz_indices = ops.convert_to_tensor(voxel_xyz_indices)
    num_valid_voxels = ops.convert_to_tensor(num_valid_voxels)
    valid = validate_sparse_voxels(voxel_xyz_indices, num_valid_voxels)
    if keras.config.backend() in ("tensorflow", "torch"):
        search = backend_module("neighbour_table").neighbour_table
    else:
        search = compiled(neighbour_table, static_argnums=(2,))
    table, repeated = search(voxel_xyz_indices, valid, kernel_size)
    check_value(
        ~repeated,
        "`voxel_xyz_indices` must not repeat a voxel within a scene. Received a duplicated "
        "voxel; merge duplicates first (e.g. with `keras_suite.ops.voxelize`).",
    )
    return table


def apply_kernel_map(voxel_features, kernel_map, kernel):
    """Applies a submanifold sparse 3D convolution kernel through a kernel map.

    At every voxel, sums the neighbour's features times the kernel's matrix at every offset
    where the kernel map has a neighbour: `out[b, i] = sum_o features[b, kernel_map[b, i, o]]
    @ kernel[o]`, over offsets `o` with `kernel_map[b, i, o] >= 0` (no bias, no activation).
    Each backend runs its fastest form (`keras_suite/ops/backend/*/apply_kernel_map.py`):
    TensorFlow and PyTorch work only on the neighbour pairs that exist (gather, matmul and
    scatter-add per offset), JAX gathers every offset of every row in static shapes (zeros
    where there is no neighbour) so that it runs under `jax.jit`.

    Args:
        voxel_features: float tensor (batch, num_voxels, in_channels).
        kernel_map: int32 tensor (batch, num_voxels, kernel_size**3) from `build_kernel_map`.
        kernel: float tensor (kernel_size, kernel_size, kernel_size, in_channels, filters),
            laid out like a `keras.layers.Conv3D` kernel.

    Returns:
        A float tensor (batch, num_voxels, filters) in the dtype of `voxel_features`; rows
        without neighbours (padding rows) are zeros.

    Example:

    ```python
    xyz = np.array([[[0, 0, 0], [0, 0, 1], [5, 5, 5]]], "int32")
    table = keras_suite.ops.build_kernel_map(xyz, np.array([3], "int32"), kernel_size=3)
    features = np.ones((1, 3, 2), "float32")
    kernel = np.ones((3, 3, 3, 2, 4), "float32")
    keras_suite.ops.apply_kernel_map(features, table, kernel)  # rows 0, 1: 4.0; row 2: 2.0
    ```
    """
    features = ops.convert_to_tensor(voxel_features)
    kernel_map = ops.convert_to_tensor(kernel_map)
    kernel = ops.convert_to_tensor(kernel)
    if len(kernel.shape) != 5 or len(set(kernel.shape[:3])) != 1:
        raise ValueError(
            "`kernel` must have shape (kernel_size, kernel_size, kernel_size, in_channels, "
            f"filters). Received: shape={tuple(kernel.shape)}"
        )
    volume = kernel.shape[0] ** 3
    in_channels = kernel.shape[3]
    if len(kernel_map.shape) != 3 or kernel_map.shape[-1] not in (None, volume):
        raise ValueError(
            f"`kernel_map` must be int32 of shape (batch, num_voxels, {volume}) for "
            f"kernel_size={kernel.shape[0]}. Received: shape={tuple(kernel_map.shape)}"
        )
    if len(features.shape) != 3 or features.shape[-1] not in (None, in_channels):
        raise ValueError(
            f"`voxel_features` must have shape (batch, num_voxels, {in_channels}), the "
            f"kernel's {in_channels} channels. Received: shape={tuple(features.shape)}"
        )
    for axis in (0, 1):
        if None not in (kernel_map.shape[axis], features.shape[axis]) and (
            kernel_map.shape[axis] != features.shape[axis]
        ):
            raise ValueError(
                "`kernel_map` must have the same (batch, num_voxels) as `voxel_features`. "
                f"Received: kernel_map.shape={tuple(kernel_map.shape)}, "
                f"voxel_features.shape={tuple(features.shape)}"
            )
    batch, num_voxels = ops.shape(features)[0], ops.shape(features)[1]
    row_offset = ops.arange(batch, dtype="int32")[:, None, None] * num_voxels
    kernel_map = ops.cast(kernel_map, "int32")
    table = ops.reshape(ops.where(kernel_map >= 0, kernel_map + row_offset, -1), (-1, volume))
    outputs = backend_module("apply_kernel_map").apply_kernel_map(
        ops.reshape(features, (-1, in_channels)),
        table,
        ops.reshape(ops.cast(kernel, features.dtype), (volume, in_channels, kernel.shape[4])),
    )
    return ops.reshape(outputs, (batch, num_voxels, kernel.shape[4]))


def neighbour_table(voxel_xyz_indices, valid, kernel_size):
    """The kernel map of checked indices, and whether a scene repeats a voxel."""
    high, low = pack_voxel_keys(voxel_xyz_indices, valid)
    order = lexsort_rows(high, low)
    sorted_high = ops.take_along_axis(high, order, axis=1)
    sorted_low = ops.take_along_axis(low, order, axis=1)
    repeated = (
        (sorted_high[:, 1:] == sorted_high[:, :-1])
        & (sorted_low[:, 1:] == sorted_low[:, :-1])
        & (sorted_high[:, 1:] != SENTINEL)
    )
    # One search per voxel and (dx, dy) column finds the first row at or after
    # (x + dx, y + dy, z - r); as keys are distinct, the keys for dz = -r .. r can only sit at
    # the following rows, one step further per key found.
    radius = kernel_size // 2
    batch, num_voxels = ops.shape(high)[0], ops.shape(high)[1]
    column_offsets = kernel_offsets(kernel_size)[::kernel_size, :2]
    deltas = ops.convert_to_tensor(column_offsets[:, 0] * 2**AXIS_BITS + column_offsets[:, 1])
    num_columns = kernel_size**2
    query_high = ops.reshape(high[:, :, None] + deltas, (batch, num_voxels * num_columns))
    query_low = ops.reshape(
        ops.repeat(low[:, :, None] - radius, num_columns, axis=2), (batch, num_voxels * num_columns)
    )
    query_valid = ops.reshape(
        ops.repeat(valid[:, :, None], num_columns, axis=2), (batch, num_voxels * num_columns)
    )
    position = search_sorted_keys(sorted_high, sorted_low, query_high, query_low)
    last = num_voxels - 1
    rows = []
    for dz in range(kernel_size):
        at = ops.minimum(position, last)
        hit = (
            (ops.take_along_axis(sorted_high, at, axis=1) == query_high)
            & (ops.take_along_axis(sorted_low, at, axis=1) == query_low + dz)
            & query_valid
        )
        rows.append(ops.where(hit, ops.take_along_axis(order, at, axis=1), -1))
        position = position + ops.cast(hit, "int32")
    table = ops.stack(rows, axis=-1)
    table = ops.cast(ops.reshape(table, (batch, num_voxels, kernel_size**3)), "int32")
    return table, ops.any(repeated)


def compact_keys(keys, capacity):
    """Numbers the distinct keys of each scene 0, 1, ... in sorted order.

    Args:
        keys: the `(high, low)` int32 words (batch, n) from `pack_voxel_keys` (padding rows hold
            the sentinel).
        capacity: int, the most distinct keys kept per scene; later ones are dropped.

    Returns:
        A tuple `(local_ids, counts, representative)`: int32 (batch, n) ids within the scene
        (-1 on padding and dropped rows), int32 (batch,) number of kept distinct keys, and int32
        (batch, capacity) the flat row (into the flattened (batch * n) keys) of one member of
        each kept key (0 on unused slots).
    """
    high, low = (ops.convert_to_tensor(key, "int32") for key in keys)
    return compiled(compact_key_ids, static_argnums=(2,))(high, low, capacity)


def compact_key_ids(high, low, capacity):
    """`compact_keys` on the two key words."""
    order = lexsort_rows(high, low)
    sorted_high = ops.take_along_axis(high, order, axis=1)
    sorted_low = ops.take_along_axis(low, order, axis=1)
    changed = (sorted_high[:, 1:] != sorted_high[:, :-1]) | (
        sorted_low[:, 1:] != sorted_low[:, :-1]
    )
    is_new = ops.concatenate([ops.ones_like(changed[:, :1]), changed], axis=1)
    is_new = is_new & (sorted_high != SENTINEL)
    ids_sorted = ops.cumsum(ops.cast(is_new, "int32"), axis=1) - 1
    first = search_sorted_keys(sorted_high, sorted_low, high, low)
    local_ids = ops.take_along_axis(ids_sorted, ops.minimum(first, ops.shape(high)[1] - 1), axis=1)
    keep = (high != SENTINEL) & (local_ids < capacity)
    local_ids = ops.where(keep, local_ids, -1)
    counts = ops.minimum(ops.sum(ops.cast(is_new, "int32"), axis=1), capacity)
    slots = ops.zeros_like(ids_sorted[:, :1]) + ops.arange(capacity, dtype="int32")[None, :]
    positions = search_sorted_keys(
        ids_sorted, ops.zeros_like(ids_sorted), slots, ops.zeros_like(slots)
    )
    rows = ops.take_along_axis(order, ops.minimum(positions, ops.shape(high)[1] - 1), axis=1)
    scene_start = ops.arange(ops.shape(high)[0], dtype="int32")[:, None] * ops.shape(high)[1]
    representative = ops.where(slots < counts[:, None], rows + scene_start, 0)
    return local_ids, ops.cast(counts, "int32"), ops.cast(representative, "int32")
