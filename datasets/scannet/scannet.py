"""ScanNet v2 scenes (meshes with NYU40 semantic and instance labels) from the user's download."""

import csv
import io

import numpy as np
import tensorflow_datasets as tfds
from absl import logging
from etils import epath

from keras_suite.datasets import mesh_scene, ply_mesh

SPLIT_FILES = {
    "train": "scannetv2_train.txt",
    "validation": "scannetv2_val.txt",
    "test": "scannetv2_test.txt",
}
SCAN_FOLDERS = ("scans", "scans_test")
LABELS_TSV = "scannetv2-labels.combined.tsv"
_OFFICIAL_SPLITS = epath.Path(__file__).parent / "splits"

_DESCRIPTION = """
ScanNet v2: 1513 annotated RGB-D reconstructions of indoor rooms (plus 100 test scans). Each
example is one scan's mesh (`_vh_clean_2.ply`) with per-vertex colours, normals computed from the
faces, NYU40 semantic labels (from `_vh_clean_2.labels.ply`), instance labels (from the
over-segmentation and the aggregated annotation) and one oriented box per annotated object.
Vertex positions are exactly as in the PLY file; the scan's `axisAlignment` is in its own feature.
"""

_CITATION = """
@inproceedings{dai2017scannet,
  title={ScanNet: Richly-annotated 3D Reconstructions of Indoor Scenes},
  author={Dai, Angela and Chang, Angel X. and Savva, Manolis and Halber, Maciej and
          Funkhouser, Thomas and Nie{\\ss}ner, Matthias},
  booktitle={Proc. Computer Vision and Pattern Recognition (CVPR), IEEE},
  year={2017}
}
"""


class Scannet(tfds.core.GeneratorBasedBuilder):
    """ScanNet v2 meshes with NYU40 semantic labels, instance labels and object boxes.

    Built from the files of the official ScanNet download (`download-scannet.py`), which needs
    the ScanNet terms of use to be accepted, so it is read from `manual_dir`. Splits come from
    `scannetv2_{train,val,test}.txt` in `manual_dir` when present, else from the official lists
    shipped with keras-suite. Scans that a split lists but `manual_dir` lacks are logged and not
    built; a scan that is present but lacks a file the format requires raises an error naming
    the file.

    Features (TF3D's ScanNet scene spec, plus `axis_alignment` and `objects`):
    `scene_name`; `axis_alignment` (4, 4), the scan's `axisAlignment` (identity when the scan
    has none, e.g. test scans), not applied to the positions; `mesh/vertices/positions` (N, 3)
    float32; `mesh/vertices/colors` (N, 4) uint8 RGBA; `mesh/vertices/normals` (N, 3);
    `mesh/vertices/semantic_labels` (N, 1) NYU40 id, 0 = unannotated;
    `mesh/vertices/instance_labels` (N, 1), 0 = no object, else aggregation `objectId` + 1;
    `mesh/faces/polygons` (F, 3) int32; `objects/{id, label, name, box/{center, size,
    rotation}}`, where each box is the object's vertices' bounding box in the axis-aligned frame,
    expressed in the mesh frame. Test scans have no annotations: their labels are 0 and they
    have no objects.

    Example:

    ```python
    import tensorflow_datasets as tfds

    from keras_suite.datasets import Scannet  # registers the `scannet` builder

    ds = tfds.load(
        "scannet", split="train",
        download_and_prepare_kwargs={
            "download_config": tfds.download.DownloadConfig(manual_dir="/data/scannet")
        },
    )
    ```
    """

    VERSION = tfds.core.Version("1.0.0")
    # TFDS infers these from the module name, which does not match the folder `datasets/`.
    code_path = epath.Path(__file__)
    pkg_dir_path = epath.Path(__file__).parent
    RELEASE_NOTES = {"1.0.0": "Initial release."}
    MANUAL_DOWNLOAD_INSTRUCTIONS = """
    Ask for ScanNet v2 at http://www.scan-net.org/ (terms of use), then download with the
    provided `download-scannet.py`, for each scan, the file types `_vh_clean_2.ply`,
    `_vh_clean_2.labels.ply`, `_vh_clean_2.0.010000.segs.json`, `.aggregation.json` and `.txt`,
    plus `scannetv2-labels.combined.tsv`. Keep the script's layout in `manual_dir`:

        manual_dir/
          scannetv2-labels.combined.tsv
          scans/scene0000_00/scene0000_00_vh_clean_2.ply
                             scene0000_00_vh_clean_2.labels.ply
                             scene0000_00_vh_clean_2.0.010000.segs.json
                             scene0000_00.aggregation.json
                             scene0000_00.txt
          scans_test/scene0707_00/scene0707_00_vh_clean_2.ply   (test scans, optional;
                                  scene0707_00.txt               the .txt too)
          scannetv2_train.txt, scannetv2_val.txt, scannetv2_test.txt   (optional)

    Without the split files the official ScanNet v2 lists shipped with keras-suite are used.
    """

    def _info(self):
        return self.dataset_info_from_configs(
            description=_DESCRIPTION,
            features=tfds.features.FeaturesDict(
                {
                    "scene_name": tfds.features.Text(),
                    "axis_alignment": tfds.features.Tensor(shape=(4, 4), dtype=np.float32),
                    "mesh": mesh_scene.mesh_features(4),
                    "objects": mesh_scene.object_features(),
                }
            ),
            homepage="http://www.scan-net.org/",
            citation=_CITATION,
        )

    def _split_generators(self, dl_manager):
        # TFDS itself reports a missing or empty manual_dir, with the instructions above.
        manual_dir = epath.Path(dl_manager.manual_dir)
        splits = {}
        for split, file_name in SPLIT_FILES.items():
            scenes = read_split_file(manual_dir, file_name)
            found = {}
            for scene in scenes:
                folder = find_scan_folder(manual_dir, scene)
                if folder is not None:
                    found[scene] = folder
            missing = [scene for scene in scenes if scene not in found]
            mesh_scene.report_missing_scans("scannet", split, missing, found)
            if found:
                splits[split] = self._generate_examples(manual_dir, found, split != "test")
        if not splits:
            raise FileNotFoundError(
                f"No ScanNet scan folder found under {manual_dir}. Expected `scans/<scene_id>/` "
                f"folders (e.g. scans/scene0000_00/) as written by ScanNet's download script. "
                f"Received the entries: {sorted(p.name for p in manual_dir.iterdir())}"
            )
        return splits

    def _generate_examples(self, manual_dir, folders, annotated):
        label_map = read_label_map(manual_dir / LABELS_TSV) if annotated else None
        for scene, folder in folders.items():
            yield scene, read_scene(folder, scene, label_map)


def read_split_file(manual_dir, file_name):
    """Scene ids of one split: `manual_dir/file_name` if present, else the official list."""
    path = manual_dir / file_name
    if not path.exists():
        path = _OFFICIAL_SPLITS / file_name
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def find_scan_folder(manual_dir, scene):
    for folder_name in SCAN_FOLDERS:
        folder = manual_dir / folder_name / scene
        if folder.exists():
            return folder
    return None


def read_label_map(path):
    """`scannetv2-labels.combined.tsv` as a dict from raw category to NYU40 id."""
    text = mesh_scene.require_file(
        path, "ScanNet's label table (tab-separated, with `raw_category` and `nyu40id` columns)"
    ).read_text()
    rows = csv.DictReader(io.StringIO(text), delimiter="\t")
    if rows.fieldnames is None or not {"raw_category", "nyu40id"} <= set(rows.fieldnames):
        raise ValueError(
            f"{path} must be ScanNet's tab-separated label table with the columns "
            f"`raw_category` and `nyu40id`. Received the header: {rows.fieldnames}"
        )
    return {row["raw_category"]: int(row["nyu40id"]) for row in rows if row["nyu40id"]}


def read_axis_alignment(path, required):
    """The 4x4 `axisAlignment` (row-major) of a scan's `<scene>.txt`; identity if it has none.

    The file is required for annotated scans; test scans may come without it.
    """
    if not required and not path.exists():
        return np.eye(4, dtype=np.float32)
    text = mesh_scene.require_file(path, "the scan's metadata (`axisAlignment = ...`)").read_text()
    for line in text.splitlines():
        key, _, value = line.partition("=")
        if key.strip() == "axisAlignment":
            values = value.split()
            if len(values) != 16:
                raise ValueError(
                    f"`axisAlignment` in {path} must hold 16 numbers (a row-major 4x4 matrix). "
                    f"Received {len(values)}: {value.strip()}"
                )
            return np.array(values, np.float32).reshape(4, 4)
    return np.eye(4, dtype=np.float32)


def read_scene(folder, scene, label_map):
    """One example: the scan's mesh, labels and objects (`label_map` None: not annotated)."""
    mesh = ply_mesh.read_ply_mesh(folder / f"{scene}_vh_clean_2.ply")
    positions = mesh.positions
    num_vertices = mesh.num_vertices
    axis_alignment = read_axis_alignment(folder / f"{scene}.txt", label_map is not None)
    semantic = np.zeros((num_vertices,), np.int64)
    instance = np.zeros((num_vertices,), np.int64)
    objects = mesh_scene.empty_objects()
    if label_map is not None:
        labels_path = folder / f"{scene}_vh_clean_2.labels.ply"
        mesh_scene.require_file(labels_path, "the scan's NYU40 vertex labels (PLY)")
        labels_mesh = ply_mesh.read_ply_mesh(labels_path)
        if labels_mesh.num_vertices != num_vertices:
            raise ValueError(
                f"{labels_path} must have as many vertices as the scan's mesh ({num_vertices}). "
                f"Received {labels_mesh.num_vertices}."
            )
        semantic = labels_mesh.field("label", np.int64)
        instance, objects = read_instances(folder, scene, num_vertices, label_map)
        objects["box"] = object_boxes(positions, instance, objects["id"], axis_alignment)
    return {
        "scene_name": scene,
        "axis_alignment": axis_alignment,
        "mesh": {
            "vertices": {
                "positions": positions,
                "colors": mesh.stack(("red", "green", "blue", "alpha"), np.uint8),
                "normals": ply_mesh.vertex_normals(positions, mesh.faces),
                "semantic_labels": semantic[:, None],
                "instance_labels": instance[:, None],
            },
            "faces": {"polygons": mesh.faces.astype(np.int32)},
        },
        "objects": objects,
    }


def read_instances(folder, scene, num_vertices, label_map):
    """Per-vertex instance ids (objectId + 1, 0 = none) and the objects' ids, labels, names."""
    segs_path = folder / f"{scene}_vh_clean_2.0.010000.segs.json"
    segments = mesh_scene.read_json(segs_path, "the scan's over-segmentation (`segIndices`)")
    seg_indices = np.asarray(segments.get("segIndices", []), np.int64)
    if seg_indices.shape != (num_vertices,):
        raise ValueError(
            f"`segIndices` in {segs_path} must hold one segment id per mesh vertex "
            f"({num_vertices}). Received {seg_indices.size} ids."
        )
    aggregation_path = folder / f"{scene}.aggregation.json"
    aggregation = mesh_scene.read_json(
        aggregation_path, "the scan's object annotation (`segGroups`)"
    )
    if "segGroups" not in aggregation:
        raise ValueError(
            f"{aggregation_path} must have a `segGroups` list (ScanNet's aggregation format). "
            f"Received the keys: {sorted(aggregation)}"
        )
    instance = np.zeros((num_vertices,), np.int64)
    ids, labels, names = [], [], []
    for group in aggregation["segGroups"]:
        object_id = int(group["objectId"]) + 1
        name = group["label"]
        instance[np.isin(seg_indices, np.asarray(group["segments"], np.int64))] = object_id
        if name not in label_map:
            logging.warning(
                "scannet: %s: object %d has the category %r, which %s does not list; its "
                "`objects/label` is 0 (unannotated).",
                aggregation_path,
                object_id,
                name,
                LABELS_TSV,
            )
        ids.append(object_id)
        names.append(name)
        labels.append(label_map.get(name, 0))
    objects = mesh_scene.empty_objects()
    objects.update(id=np.array(ids, np.int64), label=np.array(labels, np.int64), name=names)
    return instance, objects


def object_boxes(positions, instance, object_ids, axis_alignment):
    """Each object's box: axis-aligned in the `axisAlignment` frame, given in the mesh frame.

    The vertices of object `i` (where `instance == object_ids[i]`) are mapped by
    `axis_alignment`; their min/max there gives the centre and size; the centre is mapped back
    by the inverse alignment, whose rotation gives the box axes. An object that owns no vertex
    (all its vertices were claimed by a later object) gets a zero-size box at the origin.
    """
    rotation = axis_alignment[:3, :3].astype(np.float64)
    translation = axis_alignment[:3, 3].astype(np.float64)
    aligned = positions.astype(np.float64) @ rotation.T + translation
    inverse = np.linalg.inv(axis_alignment.astype(np.float64))
    centers, sizes = [], []
    for object_id in object_ids:
        members = aligned[instance == object_id]
        if len(members) == 0:
            centers.append(np.zeros(3))
            sizes.append(np.zeros(3))
            continue
        low, high = members.min(axis=0), members.max(axis=0)
        centers.append(inverse[:3, :3] @ ((low + high) / 2) + inverse[:3, 3])
        sizes.append(high - low)
    count = len(object_ids)
    return {
        "center": np.array(centers, np.float32).reshape(count, 3),
        "size": np.array(sizes, np.float32).reshape(count, 3),
        "rotation": np.repeat(inverse[None, :3, :3], count, axis=0).astype(np.float32),
    }
