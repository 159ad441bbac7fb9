"""Atomic checkpoints of a list of variables plus a JSON-able state dict, in one folder."""

import json
import os

import numpy as np


def save_checkpoint(folder, variables, state):
    """Writes `variables` (to `variables.npz`) and `state` (to `state.json`) in `folder`.

    Each file is written beside its final name and renamed into place, so a crash leaves the
    previous checkpoint whole.

    Args:
        folder: the checkpoint folder (created if missing).
        variables: list of variables (anything `np.asarray` reads), saved in order.
        state: a JSON-serializable dict.

    Example:

    ```python
    save_checkpoint("/tmp/run/checkpoint", model.variables, {"step": 10})
    state = load_checkpoint("/tmp/run/checkpoint", model.variables)  # {"step": 10}
    ```
    """
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, "variables.npz")
    with open(path + ".tmp", "wb") as f:
        np.savez(f, **{f"v{i}": np.asarray(v) for i, v in enumerate(variables)})
    os.replace(path + ".tmp", path)
    path = os.path.join(folder, "state.json")
    with open(path + ".tmp", "w") as f:
        json.dump(state, f)
    os.replace(path + ".tmp", path)


def load_checkpoint(folder, variables):
    """Assigns the checkpoint in `folder` to `variables`; returns its state, or None if none.

    Raises:
        ValueError: the checkpoint holds another number of variables than `variables`.
    """
    path = os.path.join(folder, "state.json")
    if not os.path.isfile(path):
        return None
    with open(path) as f:
        state = json.load(f)
    with np.load(os.path.join(folder, "variables.npz")) as arrays:
        if len(arrays.files) != len(variables):
            raise ValueError(
                f"The checkpoint in `{folder}` holds {len(arrays.files)} variables but "
                f"{len(variables)} were given to restore: it was written by a model with "
                f"another config. Use a new folder. Received: folder={folder!r}"
            )
        for i, variable in enumerate(variables):
            variable.assign(arrays[f"v{i}"])
    return state
