"""Triangle meshes from PLY files (binary or ASCII), and vertex normals computed from faces.

Shared by the `scannet` and `rio` builders: both datasets publish their meshes as PLY files with
a `vertex` element (positions, colours, label fields) and a `face` element whose
`vertex_indices` list holds three vertex ids per triangle.
"""

import io

import numpy as np
import plyfile
import tensorflow as tf

FACE_LIST_NAMES = ("vertex_indices", "vertex_index")
# Lets plyfile read triangle lists in one vectorised pass; it falls back to row-by-row reading
# (and `_triangles` then reports the polygon) when a face is not a triangle.
_TRIANGLE_LISTS = {"face": {name: 3 for name in FACE_LIST_NAMES}}


class PlyMesh:
    """A triangle mesh read from a PLY file.

    Args:
        vertices: structured numpy array, one record per vertex, with the PLY's vertex
            properties as fields (`x`, `y`, `z`, `red`, ...).
        faces: int64 array of shape (F, 3), the vertex ids of each triangle.
        path: the file the mesh was read from (used in error messages).
    """

    def __init__(self, vertices, faces, path):
        self.vertices = vertices
        self.faces = faces
        self.path = path

    @property
    def num_vertices(self):
        return len(self.vertices)

    def field(self, name, dtype):
        """The vertex property `name` as a 1D array of `dtype`; a clear error if it is absent."""
        if name not in self.vertices.dtype.names:
            raise ValueError(
                f"The PLY file {self.path} has no vertex property `{name}`. Expected the "
                f"properties of the published format. Received: {list(self.vertices.dtype.names)}"
            )
        return np.asarray(self.vertices[name], dtype=dtype)

    def stack(self, names, dtype):
        """Vertex properties `names` stacked as columns: an array of shape (N, len(names))."""
        return np.stack([self.field(name, dtype) for name in names], axis=-1)

    @property
    def positions(self):
        """Vertex positions, float32 of shape (N, 3), exactly as stored in the file."""
        return self.stack(("x", "y", "z"), np.float32)


def read_ply_mesh(path):
    """Reads a triangle mesh from a PLY file (binary little/big endian or ASCII).

    Args:
        path: the PLY file (any path `tf.io.gfile` can open).

    Returns:
        A `PlyMesh`.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not a PLY file, is truncated, has no `vertex` or `face`
            element, has faces that are not triangles, or has face ids out of range. The
            message names the file.
    """
    path = str(path)
    if not tf.io.gfile.exists(path):
        raise FileNotFoundError(f"Missing PLY mesh file: {path}. Expected a PLY file there.")
    try:
        with tf.io.gfile.GFile(path, "rb") as stream:
            contents = stream.read()
        ply = plyfile.PlyData.read(io.BytesIO(contents), known_list_len=_TRIANGLE_LISTS)
    except (plyfile.PlyParseError, ValueError) as error:
        raise ValueError(
            f"Could not read the PLY file {path}: it is truncated or not a valid PLY file. "
            f"Expected a complete PLY mesh (re-download it). Received the parse error: {error}"
        ) from error
    names = [element.name for element in ply.elements]
    if "vertex" not in names or "face" not in names:
        raise ValueError(
            f"The PLY file {path} must hold a `vertex` and a `face` element. "
            f"Received elements: {names}"
        )
    vertices = ply["vertex"].data
    face_data = ply["face"].data
    list_name = next((n for n in FACE_LIST_NAMES if n in face_data.dtype.names), None)
    if list_name is None:
        raise ValueError(
            f"The `face` element of {path} must have a `vertex_indices` list property. "
            f"Received properties: {list(face_data.dtype.names)}"
        )
    faces = _triangles(face_data[list_name], path)
    if faces.size and (faces.min() < 0 or faces.max() >= len(vertices)):
        raise ValueError(
            f"The faces of {path} must index its {len(vertices)} vertices. "
            f"Received vertex ids from {faces.min()} to {faces.max()}."
        )
    return PlyMesh(vertices, faces, path)


def _triangles(face_lists, path):
    if len(face_lists) == 0:
        return np.zeros((0, 3), np.int64)
    lengths = np.fromiter((len(face) for face in face_lists), np.int64, len(face_lists))
    if np.any(lengths != 3):
        bad = int(np.flatnonzero(lengths != 3)[0])
        raise ValueError(
            f"The faces of {path} must be triangles (3 vertex ids each). "
            f"Received face {bad} with {lengths[bad]} vertex ids."
        )
    return np.stack(list(face_lists)).astype(np.int64)


def vertex_normals(positions, faces):
    """Unit vertex normals: the area-weighted mean of the normals of the faces around a vertex.

    Each triangle (a, b, c) contributes its unnormalised normal (b - a) x (c - a), whose length
    is twice its area, to its three vertices; each vertex's sum is then scaled to unit length.
    A vertex on no face (or only on degenerate faces) gets the zero vector.

    Args:
        positions: float array of shape (N, 3).
        faces: int array of shape (F, 3) with counter-clockwise (outward) vertex order.

    Returns:
        float32 array of shape (N, 3).
    """
    positions = np.asarray(positions, np.float64)
    faces = np.asarray(faces, np.int64).reshape(-1, 3)
    a, b, c = (positions[faces[:, i]] for i in range(3))
    face_normals = np.cross(b - a, c - a)
    sums = np.zeros_like(positions)
    for i in range(3):
        np.add.at(sums, faces[:, i], face_normals)
    lengths = np.linalg.norm(sums, axis=-1, keepdims=True)
    normals = np.divide(sums, lengths, out=np.zeros_like(sums), where=lengths > 0)
    return normals.astype(np.float32)
