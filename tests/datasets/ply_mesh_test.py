"""Tests of the PLY mesh reader and of vertex normals computed from faces."""

import numpy as np
import plyfile
import pytest

from keras_suite.datasets.ply_mesh import read_ply_mesh, vertex_normals

POSITIONS = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32) + np.float32(0.25)


def write(path, faces, text=False, face_property="vertex_indices"):
    vertices = np.zeros(len(POSITIONS), dtype=[("x", "f4"), ("y", "f4"), ("z", "f4"), ("w", "u2")])
    for i, axis in enumerate("xyz"):
        vertices[axis] = POSITIONS[:, i]
    vertices["w"] = [7, 8, 9, 65535]
    width = len(faces[0])
    face_array = np.zeros(len(faces), dtype=[(face_property, "i4", (width,))])
    face_array[face_property] = faces
    plyfile.PlyData(
        [
            plyfile.PlyElement.describe(vertices, "vertex"),
            plyfile.PlyElement.describe(face_array, "face", len_types={face_property: "u1"}),
        ],
        text=text,
    ).write(str(path))
    return str(path)


@pytest.mark.parametrize("text", [False, True])
def test_reads_binary_and_ascii(tmp_path, text):
    mesh = read_ply_mesh(write(tmp_path / "m.ply", [[0, 1, 2], [0, 3, 1]], text=text))
    np.testing.assert_array_equal(mesh.positions, POSITIONS)
    np.testing.assert_array_equal(mesh.faces, [[0, 1, 2], [0, 3, 1]])
    np.testing.assert_array_equal(mesh.field("w", np.int64), [7, 8, 9, 65535])


def test_normals_by_hand():
    # Triangle (0, 1, 2) lies in z = 0.25 with normal +z and twice-area 1; triangle (0, 3, 1)
    # lies in y = 0.25 with normal (0, 0, 1) x (1, 0, 0) = +y. Vertices 0 and 1 share both:
    # (0, 1, 1) / sqrt(2).
    normals = vertex_normals(POSITIONS, [[0, 1, 2], [0, 3, 1]])
    s = 1 / np.sqrt(2)
    np.testing.assert_allclose(normals, [[0, s, s], [0, s, s], [0, 0, 1], [0, 1, 0]], atol=1e-7)
    # A vertex on no face gets the zero vector.
    np.testing.assert_array_equal(vertex_normals(POSITIONS, [[0, 1, 2]])[3], [0, 0, 0])


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="Missing PLY mesh file: .*absent.ply"):
        read_ply_mesh(tmp_path / "absent.ply")


def test_truncated_file(tmp_path):
    path = tmp_path / "m.ply"
    write(path, [[0, 1, 2]])
    path.write_bytes(path.read_bytes()[:-2])
    with pytest.raises(ValueError, match="m.ply: it is truncated or not a valid PLY file"):
        read_ply_mesh(path)


def test_not_a_ply_file(tmp_path):
    path = tmp_path / "m.ply"
    path.write_text("solid cube\nendsolid\n")
    with pytest.raises(ValueError, match="m.ply: it is truncated or not a valid PLY file"):
        read_ply_mesh(path)


def test_quads_are_rejected(tmp_path):
    path = write(tmp_path / "q.ply", [[0, 1, 2, 3]])
    with pytest.raises(ValueError, match="q.ply must be triangles .* face 0 with 4 vertex ids"):
        read_ply_mesh(path)


def test_face_ids_out_of_range(tmp_path):
    path = write(tmp_path / "r.ply", [[0, 1, 4]])
    with pytest.raises(
        ValueError, match="must index its 4 vertices. Received vertex ids from 0 to 4"
    ):
        read_ply_mesh(path)


def test_missing_vertex_property(tmp_path):
    mesh = read_ply_mesh(write(tmp_path / "m.ply", [[0, 1, 2]]))
    with pytest.raises(ValueError, match="m.ply has no vertex property `label`"):
        mesh.field("label", np.int64)
