"""Weight sharing: a mutated child starts from its parent's trained weights where they fit."""

import re

_BLOCK_LAYER = re.compile(r"^b(\d+)_")


def share_weights(source, target, block_map=None):
    """Copies the weights of every layer of `source` into the matching layer of `target`.

    A layer of `target` matches the layer of `source` with the same name. With a `block_map`,
    a block layer (`b{i}_{block}_...`) matches instead the same layer of the source's block
    `block_map[i]` (so a block that moved because a block was inserted before it still finds
    its trained weights), and block layers whose index is not in `block_map` start fresh. A
    layer is copied only when both have weights of exactly the same number and shapes; every
    other layer of `target` keeps its fresh initialisation. Model Search names layers by block
    position and block name, so the blocks a child shares with its parent (same block, same
    input width) fit.

    Args:
        source: the parent's trained Keras model.
        target: the child's built Keras model.
        block_map: optional; a dict from block indices of `target` to block indices of
            `source` of the same block (see `align_blocks`).

    Returns:
        The sorted list of the names of the `target` layers copied.

    Example:

    ```python
    parent, child = ["dense_32", "dense_64"], ["dense_16", "dense_32", "dense_64"]
    copied = share_weights(parent_model, child_model, align_blocks(parent, child))
    ```
    """
    source_layers = {layer.name: layer for layer in source.layers}
    copied = []
    for layer in target.layers:
        if not layer.weights:
            continue
        name = layer.name
        match = _BLOCK_LAYER.match(name)
        if match and block_map is not None:
            index = block_map.get(int(match.group(1)))
            if index is None:
                continue
            name = f"b{index}_{name[match.end() :]}"
        parent_layer = source_layers.get(name)
        if parent_layer is None:
            continue
        parent_weights = parent_layer.get_weights()
        child_shapes = [tuple(w.shape) for w in layer.weights]
        if [w.shape for w in parent_weights] != child_shapes:
            continue
        layer.set_weights(parent_weights)
        copied.append(layer.name)
    return sorted(copied)


def align_blocks(parent, child):
    """Matches the blocks of a child architecture to the same blocks of its parent.

    The alignment is a longest common subsequence of the two block lists, so after one block is
    inserted, removed or replaced, every other block is matched to its counterpart in the
    parent even when its position moved.

    Args:
        parent: the parent's architecture, a list of block names.
        child: the child's architecture, a list of block names.

    Returns:
        A dict from child block indices to parent block indices of the same block.

    Example:

    ```python
    align_blocks(["dense_32", "dense_64"], ["dense_16", "dense_32", "dense_64"])
    # {1: 0, 2: 1}
    ```
    """
    lengths = [[0] * (len(child) + 1) for _ in range(len(parent) + 1)]
    for i in range(len(parent) - 1, -1, -1):
        for j in range(len(child) - 1, -1, -1):
            if parent[i] == child[j]:
                lengths[i][j] = lengths[i + 1][j + 1] + 1
            else:
                lengths[i][j] = max(lengths[i + 1][j], lengths[i][j + 1])
    mapping, i, j = {}, 0, 0
    while i < len(parent) and j < len(child):
        if parent[i] == child[j]:
            mapping[j] = i
            i, j = i + 1, j + 1
        elif lengths[i + 1][j] >= lengths[i][j + 1]:
            i += 1
        else:
            j += 1
    return mapping
