"""Weight sharing: a mutated child starts from its parent's trained weights where they fit."""


def share_weights(source, target):
    """Copies the weights of every layer of `source` into the same-named layer of `target`.

    A layer is copied only when `target` has a layer of the same name whose weights have exactly
    the same number and shapes; every other layer of `target` keeps its fresh initialisation.
    Model Search names layers by block position and block name (`b{i}_{block}_...`), so the
    blocks a child shares with its parent (same position, same block, same input width) fit.

    Args:
        source: the parent's trained Keras model.
        target: the child's built Keras model.

    Returns:
        The sorted list of the names of the layers copied.

    Example:

    ```python
    copied = share_weights(parent_model, child_model)
    ```
    """
    source_layers = {layer.name: layer for layer in source.layers}
    copied = []
    for layer in target.layers:
        parent_layer = source_layers.get(layer.name)
        if parent_layer is None or not layer.weights:
            continue
        parent_weights = parent_layer.get_weights()
        child_shapes = [tuple(w.shape) for w in layer.weights]
        if [w.shape for w in parent_weights] != child_shapes:
            continue
        layer.set_weights(parent_weights)
        copied.append(layer.name)
    return sorted(copied)
