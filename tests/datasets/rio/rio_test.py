"""Tests of the `rio` builder on a small download written in 3RScan's published formats."""

import json
import os

import numpy as np
import plyfile
import pytest
import tensorflow_datasets as tfds

from keras_suite.datasets.rio import Rio
from keras_suite.testing import manual_download_test_case

REFERENCE = "531cff08-0021-28f6-8e08-ba2eeb945e09"  # train reference
RESCAN = "531cff10-0021-28f6-8f94-80db8fdbbbee"  # its rescan
MISSING_RESCAN = "19eda6f4-55aa-29a0-8893-8eac3a4d8193"  # listed, not downloaded
VALIDATION = "8eabc405-5af7-2f32-86d2-d757fa7b019d"
TEST = "00d42bed-778d-2ac6-86a7-0e0e5f5f5660"

# A tetrahedron with outward (counter-clockwise) faces.
POSITIONS = np.array([[0, 0, 0], [2, 0, 0], [0, 2, 0], [0, 0, 2]], np.float32) + np.float32(0.5)
FACES = np.array([[0, 2, 1], [0, 1, 3], [0, 3, 2], [1, 2, 3]])
COLORS = np.array([[1, 2, 3], [4, 5, 6], [7, 8, 9], [250, 251, 252]], np.uint8)
OBJECT_IDS = np.array([0, 4, 4, 9])
NYU40 = np.array([0, 5, 7, 5])
# Worked by hand. Face normals (cross products, length 2 * area): (0,2,1): (0,0,-4);
# (0,1,3): (0,-4,0); (0,3,2): (-4,0,0); (1,2,3): (4,4,4). Vertex 0 sums the first three,
# vertex 1 faces 0, 1, 3: (4, 0, 0); vertex 2 faces 0, 2, 3: (0, 4, 0); vertex 3: (0, 0, 4).
NORMALS = np.array([[-1, -1, -1] / np.sqrt(3), [1, 0, 0], [0, 1, 0], [0, 0, 1]], np.float32)
# The rescan's alignment M, written to 3RScan.json as 16 numbers in column-major order.
TRANSFORM = np.array([[0, -1, 0, 1], [1, 0, 0, 2], [0, 0, 1, 3], [0, 0, 0, 1]], np.float32)
TRANSFORM_COLUMN_MAJOR = [0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 1, 0, 1, 2, 3, 1]
SEG_GROUPS = [
    {
        "id": 4,
        "objectId": 4,
        "label": "chair",
        "segments": [3, 8],
        "obb": {
            "centroid": [1.5, 1.5, 0.5],
            "axesLengths": [2.0, 1.0, 0.25],
            "normalizedAxes": [0, 1, 0, -1, 0, 0, 0, 0, 1],
        },
    },
    {
        "id": 9,
        "objectId": 9,
        "label": "pillow",
        "segments": [5],
        "obb": {
            "centroid": [0.5, 0.5, 2.5],
            "axesLengths": [0.5, 0.5, 0.5],
            "normalizedAxes": [1, 0, 0, 0, 1, 0, 0, 0, 1],
        },
    },
]
META = [
    {
        "reference": REFERENCE,
        "type": "train",
        "scans": [
            {"reference": RESCAN, "transform": TRANSFORM_COLUMN_MAJOR, "rigid": []},
            {"reference": MISSING_RESCAN, "transform": TRANSFORM_COLUMN_MAJOR},
        ],
    },
    {"reference": VALIDATION, "type": "validation", "scans": []},
    {"reference": TEST, "type": "test", "scans": []},
]


def write_scan(manual_dir, scan_id, text):
    folder = os.path.join(manual_dir, scan_id)
    os.makedirs(folder, exist_ok=True)
    vertices = np.zeros(
        len(POSITIONS),
        dtype=[
            ("x", "f4"),
            ("y", "f4"),
            ("z", "f4"),
            ("red", "u1"),
            ("green", "u1"),
            ("blue", "u1"),
            ("objectId", "u2"),
            ("globalId", "u2"),
            ("NYU40", "u1"),
            ("Eigen13", "u1"),
            ("RIO27", "u1"),
        ],
    )
    for i, axis in enumerate("xyz"):
        vertices[axis] = POSITIONS[:, i]
    for i, channel in enumerate(("red", "green", "blue")):
        vertices[channel] = COLORS[:, i]
    vertices["objectId"] = OBJECT_IDS
    vertices["globalId"] = OBJECT_IDS + 100
    vertices["NYU40"] = NYU40
    faces = np.zeros(len(FACES), dtype=[("vertex_indices", "i4", (3,))])
    faces["vertex_indices"] = FACES
    plyfile.PlyData(
        [
            plyfile.PlyElement.describe(vertices, "vertex"),
            plyfile.PlyElement.describe(faces, "face", len_types={"vertex_indices": "u1"}),
        ],
        text=text,
    ).write(os.path.join(folder, "labels.instances.annotated.v2.ply"))
    with open(os.path.join(folder, "semseg.v2.json"), "w") as f:
        json.dump({"scan_id": scan_id, "segGroups": SEG_GROUPS}, f)


def write_download(manual_dir):
    os.makedirs(manual_dir, exist_ok=True)
    with open(os.path.join(manual_dir, "3RScan.json"), "w") as f:
        json.dump(META, f)
    write_scan(manual_dir, REFERENCE, text=False)
    write_scan(manual_dir, RESCAN, text=True)  # 3RScan's v2 PLY files are ASCII
    write_scan(manual_dir, VALIDATION, text=False)


def build(manual_dir, data_dir):
    builder = Rio(data_dir=data_dir)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=manual_dir)
    )
    return builder


class RioBuilderTest(manual_download_test_case.ManualDownloadTestCase):
    DATASET_CLASS = Rio
    SPLITS = {"train": 2, "validation": 1}
    OVERLAPPING_SPLITS = ["train", "validation"]  # the same mesh is written for each scan

    @staticmethod
    def write_manual_download(folder):
        write_download(folder)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    manual_dir = str(tmp_path_factory.mktemp("manual"))
    write_download(manual_dir)
    return build(manual_dir, str(tmp_path_factory.mktemp("data")))


def examples(builder, split):
    return {e["scene_name"].decode(): e for e in tfds.as_numpy(builder.as_dataset(split=split))}


def test_splits_follow_the_reference(built):
    assert set(built.info.splits) == {"train", "validation"}
    train = examples(built, "train")
    assert set(train) == {REFERENCE, RESCAN}
    assert train[RESCAN]["reference_name"] == REFERENCE.encode()
    assert train[REFERENCE]["reference_name"] == REFERENCE.encode()
    np.testing.assert_array_equal(train[RESCAN]["transform_to_reference"], TRANSFORM)
    np.testing.assert_array_equal(train[REFERENCE]["transform_to_reference"], np.eye(4))
    (validation,) = examples(built, "validation").values()
    assert validation["reference_name"] == VALIDATION.encode()


@pytest.mark.parametrize("scan", [REFERENCE, RESCAN])  # binary and ASCII PLY
def test_scan_values(built, scan):
    example = examples(built, "train")[scan]
    vertices = example["mesh"]["vertices"]
    np.testing.assert_array_equal(vertices["positions"], POSITIONS)
    np.testing.assert_array_equal(vertices["colors"], COLORS)
    np.testing.assert_allclose(vertices["normals"], NORMALS, atol=1e-6)
    np.testing.assert_array_equal(vertices["semantic_labels"][:, 0], NYU40)
    np.testing.assert_array_equal(vertices["instance_labels"][:, 0], OBJECT_IDS)
    np.testing.assert_array_equal(example["mesh"]["faces"]["polygons"], FACES)

    objects = example["objects"]
    np.testing.assert_array_equal(objects["id"], [4, 9])
    # Object 4 owns vertices 1 (NYU40 5) and 2 (NYU40 7): a tie, the smaller id wins.
    np.testing.assert_array_equal(objects["label"], [5, 5])
    assert list(objects["name"]) == [b"chair", b"pillow"]
    np.testing.assert_array_equal(objects["box"]["center"], [[1.5, 1.5, 0.5], [0.5, 0.5, 2.5]])
    np.testing.assert_array_equal(objects["box"]["size"], [[2, 1, 0.25], [0.5, 0.5, 0.5]])
    np.testing.assert_array_equal(
        objects["box"]["rotation"], [[[0, -1, 0], [1, 0, 0], [0, 0, 1]], np.eye(3)]
    )


def expect_build_error(tmp_path, error, match):
    with pytest.raises(error, match=match):
        build(str(tmp_path / "manual"), str(tmp_path / "data"))


def test_missing_manual_dir(tmp_path):
    expect_build_error(tmp_path, AssertionError, "Manual directory .*manual does not exist")


def test_missing_metadata_file(tmp_path):
    write_download(str(tmp_path / "manual"))
    os.remove(tmp_path / "manual" / "3RScan.json")
    expect_build_error(tmp_path, FileNotFoundError, "3RScan.json: expected 3RScan's metadata")


def test_scan_without_labels_file_is_an_error(tmp_path):
    write_download(str(tmp_path / "manual"))
    os.remove(tmp_path / "manual" / VALIDATION / "semseg.v2.json")
    expect_build_error(tmp_path, FileNotFoundError, f"{VALIDATION}/semseg.v2.json")


def test_truncated_ply(tmp_path):
    write_download(str(tmp_path / "manual"))
    path = tmp_path / "manual" / REFERENCE / "labels.instances.annotated.v2.ply"
    path.write_bytes(path.read_bytes()[:-3])
    expect_build_error(tmp_path, ValueError, f"{REFERENCE}/labels.instances.annotated.v2.ply")


def test_corrupt_metadata(tmp_path):
    write_download(str(tmp_path / "manual"))
    (tmp_path / "manual" / "3RScan.json").write_text('[{"reference": "x"')
    expect_build_error(tmp_path, ValueError, "Could not parse .*3RScan.json as JSON")
