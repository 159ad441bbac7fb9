"""Rio / 3RScan scans (meshes with NYU40 semantic and instance labels) from the user's download."""

import numpy as np
import tensorflow_datasets as tfds
from absl import logging
from etils import epath

from keras_suite.datasets import mesh_scene, ply_mesh

META_FILE = "3RScan.json"
MESH_FILE = "labels.instances.annotated.v2.ply"
SEMSEG_FILE = "semseg.v2.json"
SPLITS = {"train": "train", "validation": "validation"}

_DESCRIPTION = """
Rio / 3RScan: 1482 scans of 478 changing indoor scenes. Each example is one scan's annotated mesh
(`labels.instances.annotated.v2.ply`) with per-vertex colours, normals computed from the faces,
NYU40 semantic labels and instance labels, and the objects of `semseg.v2.json` with their oriented
boxes. Rescans go to the split of their reference scan; `reference_name` names it and
`transform_to_reference` is the rescan-to-reference alignment of `3RScan.json`.
"""

_CITATION = """
@inproceedings{Wald2019RIO,
  title={RIO: 3D Object Instance Re-Localization in Changing Indoor Environments},
  author={Wald, Johanna and Avetisyan, Armen and Navab, Nassir and Tombari, Federico and
          Nie{\\ss}ner, Matthias},
  booktitle={Proceedings IEEE International Conference on Computer Vision (ICCV)},
  year={2019}
}
"""


class Rio(tfds.core.GeneratorBasedBuilder):
    """Rio / 3RScan meshes with NYU40 semantic labels, instance labels and object boxes.

    Built from the 3RScan download (which needs its terms of use to be accepted), read from
    `manual_dir`. `3RScan.json` assigns each reference scan a `type` (train / validation /
    test); every rescan goes to its reference's split. The test split's annotations are not
    published, so only `train` and `validation` are built. Scans listed in `3RScan.json` but
    absent from `manual_dir` are logged and not built; a scan folder that lacks its mesh or its
    `semseg.v2.json` raises an error naming the file.

    Features (TF3D's Rio scene spec, plus colours, `transform_to_reference` and `objects`):
    `scene_name` (scan id); `reference_name` (its reference scan's id, itself for a reference);
    `transform_to_reference` (4, 4), the rescan's `transform` from `3RScan.json` (16 numbers in
    column-major order, as 3RScan's own library reads them; identity for a reference), not
    applied to the positions; `mesh/vertices/positions` (N, 3) float32 exactly as in the PLY;
    `mesh/vertices/colors` (N, 3) uint8; `mesh/vertices/normals` (N, 3);
    `mesh/vertices/semantic_labels` (N, 1), the PLY's `NYU40` field (0 = unannotated);
    `mesh/vertices/instance_labels` (N, 1), the PLY's `objectId` (0 = no object);
    `mesh/faces/polygons` (F, 3) int32; `objects/{id, label, name, box/{center, size,
    rotation}}` from the `segGroups` of `semseg.v2.json`: `id` is `objectId`, `name` its raw
    label, `label` the most frequent NYU40 id among its vertices (0 if it has none), and the box
    its `obb` (`centroid`, `axesLengths`, `normalizedAxes` as the rotation's columns).

    Example:

    ```python
    import tensorflow_datasets as tfds

    from keras_suite.datasets import Rio  # registers the `rio` builder

    ds = tfds.load(
        "rio", split="validation",
        download_and_prepare_kwargs={
            "download_config": tfds.download.DownloadConfig(manual_dir="/data/3RScan")
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
    Ask for 3RScan at https://waldjohannau.github.io/RIO/ (terms of use), then download with
    the provided `download.py` the files `labels.instances.annotated.v2.ply` and
    `semseg.v2.json` of every scan (`--type labels.instances.annotated.v2.ply`, then
    `--type semseg.v2.json`), and the metadata file `3RScan.json`. Lay them out as:

        manual_dir/
          3RScan.json
          <scan id>/labels.instances.annotated.v2.ply
                    semseg.v2.json
          ...

    e.g. manual_dir/531cff08-0021-28f6-8e08-ba2eeb945e09/semseg.v2.json.
    """

    def _info(self):
        return self.dataset_info_from_configs(
            description=_DESCRIPTION,
            features=tfds.features.FeaturesDict(
                {
                    "scene_name": tfds.features.Text(),
                    "reference_name": tfds.features.Text(),
                    "transform_to_reference": tfds.features.Tensor(shape=(4, 4), dtype=np.float32),
                    "mesh": mesh_scene.mesh_features(3),
                    "objects": mesh_scene.object_features(),
                }
            ),
            homepage="https://waldjohannau.github.io/RIO/",
            citation=_CITATION,
        )

    def _split_generators(self, dl_manager):
        # TFDS itself reports a missing or empty manual_dir, with the instructions above.
        manual_dir = epath.Path(dl_manager.manual_dir)
        scans_by_split = read_scan_list(manual_dir / META_FILE)
        splits = {}
        for split, scans in scans_by_split.items():
            if split not in SPLITS:
                logging.info(
                    "rio: the %d scan(s) of the %s split are not built: 3RScan does not publish "
                    "their annotations.",
                    len(scans),
                    split,
                )
                continue
            found = {name: scan for name, scan in scans.items() if (manual_dir / name).exists()}
            missing = [name for name in scans if name not in found]
            mesh_scene.report_missing_scans("rio", split, missing, found)
            if found:
                splits[SPLITS[split]] = self._generate_examples(manual_dir, found)
        if not splits:
            raise FileNotFoundError(
                f"No 3RScan scan folder of the train or validation split found under "
                f"{manual_dir}. Expected one folder per scan id listed in {META_FILE}, holding "
                f"{MESH_FILE} and {SEMSEG_FILE}. Received the entries: "
                f"{sorted(p.name for p in manual_dir.iterdir())}"
            )
        return splits

    def _generate_examples(self, manual_dir, scans):
        for name, (reference, transform) in scans.items():
            yield name, read_scan(manual_dir / name, name, reference, transform)


def read_scan_list(path):
    """`3RScan.json` as {split: {scan id: (reference id, 4x4 transform to the reference)}}."""
    references = mesh_scene.read_json(
        path, "3RScan's metadata: a list of reference scans with `type` and `scans`"
    )
    if not isinstance(references, list):
        raise ValueError(
            f"{path} must hold a JSON list of reference scans (3RScan's `3RScan.json`). "
            f"Received a {type(references).__name__}."
        )
    splits = {}
    for entry in references:
        if "reference" not in entry or "type" not in entry:
            raise ValueError(
                f"Each entry of {path} must have a `reference` scan id and a `type`. "
                f"Received an entry with the keys: {sorted(entry)}"
            )
        reference = entry["reference"]
        scans = splits.setdefault(entry["type"], {})
        scans[reference] = (reference, np.eye(4, dtype=np.float32))
        for rescan in entry.get("scans", []):
            scans[rescan["reference"]] = (reference, _transform(rescan, path))
    return splits


def _transform(rescan, path):
    values = rescan.get("transform")
    if values is None:
        return np.eye(4, dtype=np.float32)
    if len(values) != 16:
        raise ValueError(
            f"The `transform` of rescan {rescan['reference']} in {path} must hold 16 numbers "
            f"(a 4x4 matrix in column-major order). Received {len(values)}."
        )
    return np.array(values, np.float32).reshape(4, 4).T


def read_scan(folder, name, reference, transform):
    """One example: a scan's annotated mesh and its objects."""
    mesh = ply_mesh.read_ply_mesh(
        mesh_scene.require_file(folder / MESH_FILE, "the scan's annotated mesh (PLY)")
    )
    positions = mesh.positions
    semantic = mesh.field("NYU40", np.int64)
    instance = mesh.field("objectId", np.int64)
    semseg_path = folder / SEMSEG_FILE
    semseg = mesh_scene.read_json(semseg_path, "the scan's object annotation (`segGroups`)")
    return {
        "scene_name": name,
        "reference_name": reference,
        "transform_to_reference": transform,
        "mesh": {
            "vertices": {
                "positions": positions,
                "colors": mesh.stack(("red", "green", "blue"), np.uint8),
                "normals": ply_mesh.vertex_normals(positions, mesh.faces),
                "semantic_labels": semantic[:, None],
                "instance_labels": instance[:, None],
            },
            "faces": {"polygons": mesh.faces.astype(np.int32)},
        },
        "objects": read_objects(semseg, semseg_path, semantic, instance),
    }


def read_objects(semseg, path, semantic, instance):
    """The objects of `semseg.v2.json` with their oriented boxes and majority NYU40 labels."""
    if "segGroups" not in semseg:
        raise ValueError(
            f"{path} must have a `segGroups` list (3RScan's semseg format). "
            f"Received the keys: {sorted(semseg)}"
        )
    objects = mesh_scene.empty_objects()
    ids, labels, names, centers, sizes, rotations = [], [], [], [], [], []
    for group in semseg["segGroups"]:
        obb = group.get("obb")
        if obb is None or not {"centroid", "axesLengths", "normalizedAxes"} <= set(obb):
            raise ValueError(
                f"Object {group.get('objectId')} in {path} must have an `obb` with `centroid`, "
                f"`axesLengths` and `normalizedAxes`. Received: {obb}"
            )
        object_id = int(group["objectId"])
        members = semantic[instance == object_id]
        ids.append(object_id)
        names.append(group["label"])
        labels.append(int(np.bincount(members).argmax()) if len(members) else 0)
        centers.append(obb["centroid"])
        sizes.append(obb["axesLengths"])
        rotations.append(np.reshape(obb["normalizedAxes"], (3, 3)).T)
    count = len(ids)
    objects.update(
        id=np.array(ids, np.int64),
        label=np.array(labels, np.int64),
        name=names,
        box={
            "center": np.array(centers, np.float32).reshape(count, 3),
            "size": np.array(sizes, np.float32).reshape(count, 3),
            "rotation": np.array(rotations, np.float32).reshape(count, 3, 3),
        },
    )
    return objects
