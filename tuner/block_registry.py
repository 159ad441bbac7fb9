"""The registry of Model Search blocks, and the tower builder that stacks them.

A block is any function from a tensor to a tensor. Model Search assembles blocks into a tower
(input to output) and searches over towers. Each block declares the input ranks it accepts
(2: `(batch, features)`, 3: `(batch, steps, channels)`, 4: `(batch, height, width, channels)`);
the tower builder inserts a rank-lowering transition (`Reshape` from images to sequences, `Flatten`
to features) where a block needs a lower rank than the tensor it follows.
"""

import dataclasses

import keras

_REGISTRY = {}

RANK_NAMES = {
    2: "(batch, features)",
    3: "(batch, steps, channels)",
    4: "(batch, height, width, channels)",
}


@dataclasses.dataclass(frozen=True)
class BlockSpec:
    """A registered block.

    Args:
        name: the block's name, as it appears in an architecture.
        build: a function `build(x, name) -> tensor` that applies the block's layers (each named
            with the prefix `name`) to the symbolic tensor `x`.
        ranks: the input ranks the block accepts (a tuple of ints among 2, 3, 4), or `None` for
            any rank.
        output_rank: the rank of the block's output, or `None` when it keeps its input's rank.
    """

    name: str
    build: object
    ranks: tuple | None = None
    output_rank: int | None = None

    def input_rank_after(self, rank):
        """The rank the block's input will have when it follows a tensor of rank `rank`.

        Returns `rank` itself when the block accepts it, else the highest accepted rank below
        it (reached by a transition), else `None` (the block cannot follow such a tensor).
        """
        if self.ranks is None or rank in self.ranks:
            return rank
        lower = [r for r in self.ranks if r < rank]
        return max(lower) if lower else None

    def rank_after(self, rank):
        """The rank of the block's output when it follows a tensor of rank `rank`, or `None`."""
        input_rank = self.input_rank_after(rank)
        if input_rank is None:
            return None
        return self.output_rank if self.output_rank is not None else input_rank

    def to_json(self):
        return {
            "ranks": list(self.ranks) if self.ranks is not None else None,
            "output_rank": self.output_rank,
        }


def register_block(name, ranks=None, output_rank=None):
    """Registers a block under `name`, as a decorator or called on a Keras layer.

    Args:
        name: the block's name (letters, digits, `_` and `-`).
        ranks: the input ranks the block accepts (e.g. `(4,)` for image blocks), or `None` for
            any rank.
        output_rank: the rank of the block's output, or `None` when it keeps its input's rank.

    Returns:
        A decorator taking either a function `build(x, name) -> tensor` or a Keras layer/model
        (cloned, with its weights, each time a model is built).

    Example:

    ```python
    @keras_suite.tuner.register_block("wide_dense", ranks=(2,))
    def wide_dense(x, name):
        return keras.layers.Dense(256, activation="relu", name=f"{name}_dense")(x)
    ```
    """
    _check_name(name)
    ranks = _check_ranks(ranks, "ranks")
    if output_rank is not None:
        _check_ranks((output_rank,), "output_rank")

    def decorator(block):
        _REGISTRY[name] = _make_spec(name, block, ranks, output_rank)
        return block

    return decorator


def get_block(name):
    """Returns the `BlockSpec` registered under `name`."""
    if name not in _REGISTRY:
        raise ValueError(
            f"Unknown block name. Registered blocks are: {sorted(_REGISTRY)}; add your own with "
            f"`keras_suite.tuner.register_block`. Received: name={name!r}"
        )
    return _REGISTRY[name]


def registered_blocks(rank=None):
    """The names of all registered blocks, or those that can follow a tensor of rank `rank`."""
    names = sorted(_REGISTRY)
    if rank is None:
        return names
    return [name for name in names if _REGISTRY[name].input_rank_after(rank) is not None]


def resolve_blocks(blocks):
    """Turns the `blocks` argument of `ModelSearch` into a dict of `BlockSpec`s.

    Args:
        blocks: `None` (every registered block), a list whose items are registered names or Keras
            layers/models (named by their `.name`), or a dict from names to Keras layers/models or
            build functions.

    Returns:
        A dict from block names to `BlockSpec`s.
    """
    if blocks is None:
        return dict(_REGISTRY)
    if isinstance(blocks, dict):
        items = list(blocks.items())
    elif isinstance(blocks, (list, tuple)):
        items = []
        for block in blocks:
            if isinstance(block, str):
                items.append((block, None))
            elif isinstance(block, keras.layers.Layer):
                items.append((block.name, block))
            else:
                raise ValueError(
                    "Each item of `blocks` must be a registered block name or a Keras layer. "
                    f"Received: {block!r}"
                )
    else:
        raise ValueError(
            "`blocks` must be None, a list of block names or Keras layers, or a dict from names "
            f"to layers or build functions. Received: blocks={blocks!r}"
        )
    if not items:
        raise ValueError("`blocks` must name at least one block. Received: blocks=[]")
    specs = {}
    for name, block in items:
        if block is None:
            specs[name] = get_block(name)
        else:
            _check_name(name)
            specs[name] = _make_spec(name, block, None, None)
    return specs


def build_tower(x, architecture, specs):
    """Applies the blocks of `architecture` to `x`, inserting transitions where needed.

    Args:
        x: a symbolic tensor of rank 2, 3 or 4.
        architecture: a list of block names, input to output.
        specs: a dict from block names to `BlockSpec`s.

    Returns:
        The tower's output tensor.
    """
    for index, block_name in enumerate(architecture):
        if block_name not in specs:
            raise ValueError(
                f"Unknown block name in the architecture. Known blocks are: {sorted(specs)}. "
                f"Received: architecture={architecture}"
            )
        spec = specs[block_name]
        prefix = f"b{index}_{block_name}"
        rank = len(x.shape)
        target = spec.input_rank_after(rank)
        if target is None:
            raise ValueError(
                f"Block `{block_name}` takes inputs of rank {list(spec.ranks)} "
                f"({', '.join(RANK_NAMES.get(r, '?') for r in spec.ranks)}) and transitions "
                f"only lower the rank, so it cannot follow a tensor of rank {rank}. "
                f"Received: shape={tuple(x.shape)}"
            )
        x = transition(x, target, name=f"{prefix}_to_rank{target}")
        x = spec.build(x, prefix)
    return x


def transition(x, rank, name):
    """Lowers the rank of `x` to `rank`: images to sequences by `Reshape`, else `Flatten`."""
    current = len(x.shape)
    if current == rank:
        return x
    if current == 4 and rank == 3:
        height, width, channels = x.shape[1:]
        return keras.layers.Reshape((height * width, channels), name=name)(x)
    if rank == 2:
        return keras.layers.Flatten(name=name)(x)
    raise ValueError(
        f"Transitions only lower the rank (4 to 3, or 3 and 4 to 2). Received: from rank "
        f"{current} to rank {rank}"
    )


def _make_spec(name, block, ranks, output_rank):
    if isinstance(block, keras.layers.Layer):
        if ranks is None and isinstance(block, keras.Model) and hasattr(block, "inputs"):
            try:
                ranks = (len(block.inputs[0].shape),)
                output_rank = len(block.outputs[0].shape)
            except (AttributeError, TypeError, IndexError):
                pass
        return BlockSpec(name, _layer_builder(block), ranks, output_rank)
    if not callable(block):
        raise ValueError(
            "A block must be a function `build(x, name) -> tensor` or a Keras layer. "
            f"Received: {block!r}"
        )
    return BlockSpec(name, block, ranks, output_rank)


def _layer_builder(layer):
    def build(x, name):
        config = layer.get_config()
        config["name"] = name
        clone = layer.__class__.from_config(config)
        if layer.built and layer.weights:
            clone.build(x.shape)
            if len(clone.weights) == len(layer.weights):
                clone.set_weights(layer.get_weights())
        return clone(x)

    return build


def _check_name(name):
    if not isinstance(name, str) or not name or not all(c.isalnum() or c in "_-" for c in name):
        raise ValueError(
            "A block name must be a non-empty string of letters, digits, `_` and `-`. "
            f"Received: name={name!r}"
        )


def _check_ranks(ranks, argument):
    if ranks is None:
        return None
    ranks = tuple(ranks)
    if not ranks or any(r not in RANK_NAMES for r in ranks):
        raise ValueError(
            f"`{argument}` must hold ranks among 2, 3 and 4. Received: {argument}={ranks}"
        )
    return ranks
