"""Pieces shared by the indoor mesh builders (`scannet`, `rio`): feature specs and file checks.

The features follow TF3D's ScanNet and Rio specs (`mesh/vertices/...`, `mesh/faces/polygons`),
extended with per-object oriented boxes.
"""

import json

import numpy as np
import tensorflow_datasets as tfds
from absl import logging
from etils import epath

ZLIB = tfds.features.Encoding.ZLIB


def mesh_features(color_channels):
    """The `mesh` feature: per-vertex arrays and triangle faces, all zlib-compressed.

    Faces are int32 for both datasets (TF3D stores ScanNet's as uint32, which TensorFlow cannot
    decode from zlib-compressed bytes).

    Args:
        color_channels: 4 (RGBA, ScanNet) or 3 (RGB, Rio).
    """

    def tensor(width, dtype):
        return tfds.features.Tensor(shape=(None, width), dtype=dtype, encoding=ZLIB)

    return {
        "vertices": {
            "positions": tensor(3, np.float32),
            "colors": tensor(color_channels, np.uint8),
            "normals": tensor(3, np.float32),
            "semantic_labels": tensor(1, np.int64),
            "instance_labels": tensor(1, np.int64),
        },
        "faces": {"polygons": tensor(3, np.int32)},
    }


def object_features():
    """The `objects` feature: one entry per annotated object instance.

    `id` equals the object's value in `mesh/vertices/instance_labels`; `label` is its NYU40 id
    (0 = unannotated); `name` is the annotator's raw category; `box` is an oriented box whose
    axes are the columns of `rotation` (box frame to scene frame) and whose full side lengths
    along those axes are `size`.
    """
    return tfds.features.Sequence(
        {
            "id": np.int64,
            "label": np.int64,
            "name": tfds.features.Text(),
            "box": {
                "center": tfds.features.Tensor(shape=(3,), dtype=np.float32),
                "size": tfds.features.Tensor(shape=(3,), dtype=np.float32),
                "rotation": tfds.features.Tensor(shape=(3, 3), dtype=np.float32),
            },
        }
    )


def empty_objects():
    """The value of `objects` for a scene without annotations."""
    return {
        "id": np.zeros((0,), np.int64),
        "label": np.zeros((0,), np.int64),
        "name": [],
        "box": {
            "center": np.zeros((0, 3), np.float32),
            "size": np.zeros((0, 3), np.float32),
            "rotation": np.zeros((0, 3, 3), np.float32),
        },
    }


def require_file(path, what):
    """Raises `FileNotFoundError` naming `path` and what it should hold, unless it exists."""
    path = epath.Path(path)
    if not path.exists():
        raise FileNotFoundError(f"Missing file {path}: expected {what}.")
    return path


def read_json(path, what):
    """Reads a JSON file, with errors that name the file and what it should hold."""
    path = require_file(path, what)
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ValueError(
            f"Could not parse {path} as JSON: expected {what}. Received the error: {error}"
        ) from error


def report_missing_scans(builder_name, split, missing, found):
    """Logs the scans that a split lists but the manual folder lacks (they are not built)."""
    if missing:
        shown = ", ".join(missing[:10]) + (" ..." if len(missing) > 10 else "")
        logging.warning(
            "%s: %d scan(s) of the %s split are not in the manual folder and are not built "
            "(%d found): %s",
            builder_name,
            len(missing),
            split,
            len(found),
            shown,
        )
