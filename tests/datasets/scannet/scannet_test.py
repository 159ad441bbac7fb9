"""Tests of the `scannet` builder on a small download written in ScanNet's published formats."""

import json
import os

import numpy as np
import plyfile
import pytest
import tensorflow_datasets as tfds

from keras_suite.datasets import voxel_transform
from keras_suite.datasets.scannet import Scannet
from keras_suite.testing import manual_download_test_case

TRAIN_SCENE = "scene0000_00"  # in the official train list
VAL_SCENE = "scene0011_00"  # in the official validation list
TEST_SCENE = "scene0707_00"  # in the official test list

# A unit square in the z = 0 plane (two triangles) and two triangles in the x = 0 plane.
POSITIONS = np.array(
    [[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [0, 1, 1]], np.float32
) + np.float32(0.125)
FACES = np.array([[0, 1, 2], [0, 2, 3], [0, 3, 5], [0, 5, 4]])
COLORS = np.array(
    [
        [10, 20, 30, 255],
        [40, 50, 60, 255],
        [70, 80, 90, 255],
        [1, 2, 3, 4],
        [5, 6, 7, 8],
        [9, 8, 7, 6],
    ],
    np.uint8,
)
# Worked by hand: area-weighted face normals summed at each vertex, then normalised.
S = 1 / np.sqrt(2)
NORMALS = np.array([[S, 0, S], [0, 0, 1], [0, 0, 1], [S, 0, S], [1, 0, 0], [1, 0, 0]], np.float32)
NYU40 = np.array([1, 1, 5, 5, 0, 3])
SEG_INDICES = [7, 7, 42, 42, 9, 9]
SEG_GROUPS = [
    {"id": 0, "objectId": 0, "label": "chair", "segments": [42]},
    {"id": 1, "objectId": 1, "label": "kitchen cabinet", "segments": [9]},
]
# Rotation by +90 degrees about z, then a translation.
AXIS_ALIGNMENT = np.array([[0, -1, 0, 1], [1, 0, 0, 2], [0, 0, 1, 3], [0, 0, 0, 1]], np.float32)
LABELS_TSV = (
    "id\traw_category\tcategory\tcount\tnyu40id\teigen13id\tnyuClass\tnyu40class\n"
    "1\tchair\tchair\t4000\t5\t4\tchair\tchair\n"
    "2\tkitchen cabinet\tkitchen cabinet\t300\t3\t6\tcabinet\tcabinet\n"
)


def write_ply(path, positions, faces, colors, labels=None):
    fields = [("x", "f4"), ("y", "f4"), ("z", "f4")]
    fields += [("red", "u1"), ("green", "u1"), ("blue", "u1"), ("alpha", "u1")]
    if labels is not None:
        fields.append(("label", "u2"))
    vertices = np.zeros(len(positions), dtype=fields)
    for i, axis in enumerate("xyz"):
        vertices[axis] = positions[:, i]
    for i, channel in enumerate(("red", "green", "blue", "alpha")):
        vertices[channel] = colors[:, i]
    if labels is not None:
        vertices["label"] = labels
    face_array = np.zeros(len(faces), dtype=[("vertex_indices", "i4", (3,))])
    face_array["vertex_indices"] = faces
    plyfile.PlyData(
        [
            plyfile.PlyElement.describe(vertices, "vertex"),
            plyfile.PlyElement.describe(face_array, "face", len_types={"vertex_indices": "u1"}),
        ],
        text=False,
    ).write(path)


def write_scan(manual_dir, scene, annotated=True, folder="scans", axis_alignment=True):
    scan = os.path.join(manual_dir, folder, scene)
    os.makedirs(scan, exist_ok=True)
    write_ply(os.path.join(scan, f"{scene}_vh_clean_2.ply"), POSITIONS, FACES, COLORS)
    with open(os.path.join(scan, f"{scene}.txt"), "w") as f:
        if axis_alignment:
            f.write("axisAlignment = " + " ".join(str(v) for v in AXIS_ALIGNMENT.ravel()) + "\n")
        f.write("colorHeight = 968\n")
    if annotated:
        write_ply(
            os.path.join(scan, f"{scene}_vh_clean_2.labels.ply"), POSITIONS, FACES, COLORS, NYU40
        )
        with open(os.path.join(scan, f"{scene}_vh_clean_2.0.010000.segs.json"), "w") as f:
            json.dump({"sceneId": scene, "segIndices": SEG_INDICES}, f)
        with open(os.path.join(scan, f"{scene}.aggregation.json"), "w") as f:
            json.dump({"sceneId": scene, "segGroups": SEG_GROUPS}, f)
    return scan


def write_download(manual_dir):
    os.makedirs(manual_dir, exist_ok=True)
    with open(os.path.join(manual_dir, "scannetv2-labels.combined.tsv"), "w") as f:
        f.write(LABELS_TSV)
    write_scan(manual_dir, TRAIN_SCENE)
    write_scan(manual_dir, VAL_SCENE)
    test_scan = write_scan(
        manual_dir, TEST_SCENE, annotated=False, folder="scans_test", axis_alignment=False
    )
    os.remove(os.path.join(test_scan, f"{TEST_SCENE}.txt"))  # optional for test scans


def build(manual_dir, data_dir):
    builder = Scannet(data_dir=data_dir)
    builder.download_and_prepare(
        download_config=tfds.download.DownloadConfig(manual_dir=manual_dir)
    )
    return builder


class ScannetBuilderTest(manual_download_test_case.ManualDownloadTestCase):
    DATASET_CLASS = Scannet
    SPLITS = {"train": 1, "validation": 1, "test": 1}
    OVERLAPPING_SPLITS = ["train", "validation", "test"]  # same mesh written for each scan

    @staticmethod
    def write_manual_download(folder):
        write_download(folder)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    manual_dir = str(tmp_path_factory.mktemp("manual"))
    write_download(manual_dir)
    return build(manual_dir, str(tmp_path_factory.mktemp("data")))


def load(builder, split):
    (example,) = tfds.as_numpy(builder.as_dataset(split=split))
    return example


def test_train_scene_values(built):
    example = load(built, "train")
    assert example["scene_name"] == TRAIN_SCENE.encode()
    vertices = example["mesh"]["vertices"]
    np.testing.assert_array_equal(vertices["positions"], POSITIONS)
    np.testing.assert_array_equal(vertices["colors"], COLORS)
    np.testing.assert_allclose(vertices["normals"], NORMALS, atol=1e-6)
    np.testing.assert_array_equal(vertices["semantic_labels"][:, 0], NYU40)
    np.testing.assert_array_equal(vertices["instance_labels"][:, 0], [0, 0, 1, 1, 2, 2])
    np.testing.assert_array_equal(example["mesh"]["faces"]["polygons"], FACES)
    assert example["mesh"]["faces"]["polygons"].dtype == np.int32
    np.testing.assert_array_equal(example["axis_alignment"], AXIS_ALIGNMENT)

    objects = example["objects"]
    np.testing.assert_array_equal(objects["id"], [1, 2])
    np.testing.assert_array_equal(objects["label"], [5, 3])
    assert list(objects["name"]) == [b"chair", b"kitchen cabinet"]
    # Object 1 = vertices 2, 3: aligned (x', y', z') = (1 - y, x + 2, z + 3) of (1.125, 1.125,
    # 0.125) and (0.125, 1.125, 0.125) is (-0.125, 3.125, 3.125) and (-0.125, 2.125, 3.125):
    # centre (-0.125, 2.625, 3.125), size (0, 1, 0); mapped back: x = y' - 2, y = 1 - x'.
    # Object 2 = vertices 4, 5: (0.125, 0.125, 1.125), (0.125, 1.125, 1.125): aligned
    # (0.875, 2.125, 4.125), (-0.125, 2.125, 4.125): centre (0.375, 2.125, 4.125), size (1, 0, 0).
    np.testing.assert_allclose(
        objects["box"]["center"], [[0.625, 1.125, 0.125], [0.125, 0.625, 1.125]], atol=1e-6
    )
    np.testing.assert_allclose(objects["box"]["size"], [[0, 1, 0], [1, 0, 0]], atol=1e-6)
    # Box axes in the mesh frame: aligned x' is mesh -y, aligned y' is mesh +x.
    expected_rotation = np.array([[0, 1, 0], [-1, 0, 0], [0, 0, 1]], np.float32)
    np.testing.assert_allclose(objects["box"]["rotation"], [expected_rotation] * 2, atol=1e-6)


def test_feeds_the_voxel_transform(built):
    transform = voxel_transform("scannet", voxel_size=0.5, max_voxels=8)
    dataset = built.as_dataset(split="train").map(transform).batch(1)
    inputs, targets = next(iter(tfds.as_numpy(dataset)))
    # Each vertex has a voxel of its own; voxels come in (x, y, z) order of their cells:
    # v0 (0, 0, 0), v4 (0, 0, 2), v3 (0, 2, 0), v5 (0, 2, 2), v1 (2, 0, 0), v2 (2, 2, 0).
    order = [0, 4, 3, 5, 1, 2]
    np.testing.assert_array_equal(inputs["num_valid_voxels"], [6])
    np.testing.assert_allclose(inputs["voxel_features"][0, :6], NORMALS[order], atol=1e-6)
    np.testing.assert_array_equal(
        inputs["voxel_xyz_indices"][0, :6],
        [[0, 0, 0], [0, 0, 2], [0, 2, 0], [0, 2, 2], [2, 0, 0], [2, 2, 0]],
    )
    # NYU40 0 (vertex 4) is one of TF3D's ScanNet ignore labels: weight 0, label 0.
    np.testing.assert_array_equal(targets["voxel_semantic_labels"][0, :6], [1, 0, 5, 3, 1, 5])
    np.testing.assert_array_equal(targets["voxel_instance_labels"][0, :6], [0, 0, 1, 2, 0, 1])
    np.testing.assert_array_equal(targets["voxel_loss_weights"][0], [1, 0, 1, 1, 1, 1, 0, 0])


def test_test_scene_has_no_annotations(built):
    example = load(built, "test")
    assert example["scene_name"] == TEST_SCENE.encode()
    np.testing.assert_array_equal(example["mesh"]["vertices"]["positions"], POSITIONS)
    assert not example["mesh"]["vertices"]["semantic_labels"].any()
    assert not example["mesh"]["vertices"]["instance_labels"].any()
    assert len(example["objects"]["id"]) == 0
    np.testing.assert_array_equal(example["axis_alignment"], np.eye(4))


def test_split_files_in_manual_dir_override_official_lists(tmp_path):
    manual_dir = str(tmp_path / "manual")
    write_download(manual_dir)
    with open(os.path.join(manual_dir, "scannetv2_train.txt"), "w") as f:
        f.write(f"{TRAIN_SCENE}\n{VAL_SCENE}\n")
    with open(os.path.join(manual_dir, "scannetv2_val.txt"), "w") as f:
        f.write("scene0999_00\n")
    builder = build(manual_dir, str(tmp_path / "data"))
    assert set(builder.info.splits) == {"train", "test"}
    names = {e["scene_name"] for e in tfds.as_numpy(builder.as_dataset(split="train"))}
    assert names == {TRAIN_SCENE.encode(), VAL_SCENE.encode()}


def test_official_split_lists_are_complete():
    sizes = {}
    ids = {}
    for split in ("train", "val", "test"):
        path = os.path.join(os.path.dirname(Scannet.code_path), "splits", f"scannetv2_{split}.txt")
        with open(path) as f:
            ids[split] = f.read().split()
        sizes[split] = len(set(ids[split]))
    assert sizes == {"train": 1201, "val": 312, "test": 100}
    assert not set(ids["train"]) & set(ids["val"])
    assert {i[:9] for i in ids["train"] + ids["val"]} == {f"scene{n:04d}" for n in range(707)}


def expect_build_error(tmp_path, error, match):
    with pytest.raises(error, match=match):
        build(str(tmp_path / "manual"), str(tmp_path / "data"))


def test_missing_manual_dir(tmp_path):
    expect_build_error(tmp_path, AssertionError, "Manual directory .*manual does not exist")


def test_scan_without_labels_file_is_an_error(tmp_path):
    write_download(str(tmp_path / "manual"))
    os.remove(tmp_path / "manual" / "scans" / TRAIN_SCENE / f"{TRAIN_SCENE}_vh_clean_2.labels.ply")
    expect_build_error(tmp_path, FileNotFoundError, f"{TRAIN_SCENE}_vh_clean_2.labels.ply")


def test_missing_metadata_file_of_an_annotated_scan(tmp_path):
    write_download(str(tmp_path / "manual"))
    os.remove(tmp_path / "manual" / "scans" / VAL_SCENE / f"{VAL_SCENE}.txt")
    expect_build_error(
        tmp_path, FileNotFoundError, f"{VAL_SCENE}.txt: expected the scan's metadata"
    )


def test_missing_aggregation_file(tmp_path):
    write_download(str(tmp_path / "manual"))
    os.remove(tmp_path / "manual" / "scans" / VAL_SCENE / f"{VAL_SCENE}.aggregation.json")
    expect_build_error(tmp_path, FileNotFoundError, "aggregation.json: expected")


def test_truncated_ply(tmp_path):
    write_download(str(tmp_path / "manual"))
    path = tmp_path / "manual" / "scans" / TRAIN_SCENE / f"{TRAIN_SCENE}_vh_clean_2.ply"
    path.write_bytes(path.read_bytes()[:-7])
    expect_build_error(tmp_path, ValueError, f"{TRAIN_SCENE}_vh_clean_2.ply: it is truncated")


def test_wrong_segment_count(tmp_path):
    write_download(str(tmp_path / "manual"))
    path = (
        tmp_path / "manual" / "scans" / TRAIN_SCENE / f"{TRAIN_SCENE}_vh_clean_2.0.010000.segs.json"
    )
    path.write_text(json.dumps({"segIndices": [1, 2, 3]}))
    expect_build_error(tmp_path, ValueError, "one segment id per mesh vertex .6.. Received 3")


def test_no_scans_at_all(tmp_path):
    os.makedirs(tmp_path / "manual" / "scans")
    expect_build_error(tmp_path, FileNotFoundError, "No ScanNet scan folder")
