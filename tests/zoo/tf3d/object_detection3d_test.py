import keras
import numpy as np
import pytest
from keras import ops

from keras_suite.datasets.synthetic_scenes import SyntheticScenes
from keras_suite.ops import rotated_box_iou_3d
from keras_suite.testing import TestCase
from keras_suite.zoo import ObjectDetection3D, SparseUNet3D
from keras_suite.zoo.tf3d.object_detection3d import equivalent_boxes, voxel_box_targets

from .scene_inputs import preset_inputs, scenes_to_voxels

VOXEL_SIZE = 0.25


def voxel_inputs(seed, batch=2, num_voxels=60, extent=8):
    rng = np.random.default_rng(seed)
    xyz = np.stack([rng.choice(extent**3, num_voxels, replace=False) for _ in range(batch)])
    xyz = np.stack(np.unravel_index(xyz, (extent,) * 3), -1).astype("int32")
    return {
        "voxel_features": rng.normal(size=(batch, num_voxels, 4)).astype("float32"),
        "voxel_xyz_indices": xyz,
        "num_valid_voxels": np.array([num_voxels, num_voxels // 2], "int32")[:batch],
    }


def small_model(**kwargs):
    backbone = SparseUNet3D([[8], [16]], [16], [[16], [8]])
    return ObjectDetection3D(backbone, num_classes=2, voxel_size=VOXEL_SIZE, **kwargs)


def randomize_heads(model, seed=0):
    rng = np.random.default_rng(seed)
    for head in (model.box_head, model.class_head):
        head.set_weights([0.3 * rng.normal(size=w.shape).astype("float32") for w in head.weights])


def reference_corners(box):
    """The 8 corners of one box, from its rotation matrix."""
    cos, sin = np.cos(box[6]), np.sin(box[6])
    rotation = np.array([[cos, -sin, 0], [sin, cos, 0], [0, 0, 1]])
    signs = np.array([[x, y, z] for x in (-1, 1) for y in (-1, 1) for z in (-1, 1)]) / 2
    return (signs * box[3:6]) @ rotation.T + box[:3]


def reference_corner_loss(true_box, pred_box):
    """Huber (delta 1) of corner distances, smallest over the 4 packings of the true box."""
    values = []
    for turn in range(4):
        sizes = true_box[3:6] if turn % 2 == 0 else true_box[[4, 3, 5]]
        packing = np.concatenate([true_box[:3], sizes, [true_box[6] + turn * np.pi / 2]])
        distance = np.linalg.norm(reference_corners(packing) - reference_corners(pred_box), axis=1)
        huber = np.where(distance <= 1, 0.5 * distance**2, distance - 0.5)
        values.append(huber.mean())
    return min(values)


class ObjectDetection3DTest(TestCase):
    def test_box_decoding_from_heads(self):
        inputs = voxel_inputs(0)
        model = small_model()
        model(inputs)
        randomize_heads(model)
        outputs = model(inputs)
        features = ops.convert_to_numpy(model.backbone(inputs))
        kernel, bias = model.box_head.get_weights()
        raw = features @ kernel[0, 0, 0] + bias
        centre = (inputs["voxel_xyz_indices"] + 0.5) * VOXEL_SIZE + raw[..., :3]
        size = np.exp(np.clip(raw[..., 3:6], -4, 4))
        yaw = np.arctan2(raw[..., 6], raw[..., 7] + 1.0)
        expected = np.concatenate([centre, size, yaw[..., None]], -1)
        boxes = ops.convert_to_numpy(outputs["boxes"])
        self.assertAllClose(boxes[0], expected[0], atol=1e-5)
        self.assertAllClose(boxes[1, :30], expected[1, :30], atol=1e-5)
        self.assertTrue(np.all(boxes[1, 30:] == 0))
        kernel, bias = model.class_head.get_weights()
        logits = ops.convert_to_numpy(outputs["class_logits"])
        self.assertAllClose(logits[0], features[0] @ kernel[0, 0, 0] + bias, atol=1e-5)
        self.assertEqual(logits.shape, (2, 60, 3))

    def test_loss_against_reference(self):
        rng = np.random.default_rng(1)
        count = 12
        true_boxes = np.concatenate(
            [
                rng.uniform(0, 2, (count, 3)),
                rng.uniform(0.3, 1.2, (count, 3)),
                rng.uniform(-3, 3, (count, 1)),
            ],
            1,
        ).astype("float32")
        pred_boxes = true_boxes + rng.normal(0, 0.3, true_boxes.shape).astype("float32")
        pred_boxes[:, 3:6] = np.abs(pred_boxes[:, 3:6]) + 0.1
        # Voxels 0-3 predict their box exactly (IoU 1: positives), 4-7 far away (IoU 0).
        pred_boxes[:4] = true_boxes[:4]
        pred_boxes[4:8, 0] += 10.0
        classes = np.array([1, 2, 1, 0, 2, 1, 0, 2, 1, -1, 0, 2], "int32")
        logits = rng.normal(size=(count, 3)).astype("float32")
        model = small_model(box_loss_weight=2.0, classification_loss_weight=0.5)
        loss = model.compute_loss(
            y={"boxes": true_boxes[None], "classes": classes[None]},
            y_pred={"boxes": pred_boxes[None], "class_logits": logits[None]},
        )
        objects = np.flatnonzero(classes > 0)
        box_loss = np.mean([reference_corner_loss(true_boxes[i], pred_boxes[i]) for i in objects])
        iou = ops.convert_to_numpy(rotated_box_iou_3d(pred_boxes, true_boxes))
        self.assertAllClose(iou[:4], np.ones(4), atol=1e-5)
        self.assertAllClose(iou[4:8], np.zeros(4))
        targets = np.where((classes > 0) & (iou >= 0.5), classes, 0)
        log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
        kept = np.flatnonzero(classes >= 0)
        classification = -np.mean(log_probs[kept, targets[kept]])
        self.assertAllClose(loss, 2.0 * box_loss + 0.5 * classification, atol=1e-4)

    def test_equivalent_boxes_share_corners(self):
        box = np.array([1.0, 2.0, 0.5, 1.5, 0.6, 1.0, 2.9], "float32")
        corners = reference_corners(box)
        for packing in ops.convert_to_numpy(equivalent_boxes(box)):
            self.assertTrue(-np.pi <= packing[6] < np.pi)
            other = reference_corners(packing)
            distances = np.linalg.norm(corners[:, None] - other[None], axis=-1)
            self.assertAllClose(distances.min(axis=1), np.zeros(8), atol=1e-5)

    def test_voxel_box_targets(self):
        labels = np.array([[0, 2, 1, 2, -1], [1, 0, 0, -1, -1]])
        centres = [np.array([[1, 1, 0.5], [2, 2, 0.5]]), np.array([[3, 3, 0.5]])]
        sizes = [np.ones((2, 3)), np.full((1, 3), 2.0)]
        yaws = [np.array([0.1, 0.2]), np.array([0.3])]
        classes = [np.array([3, 1]), np.array([2])]
        boxes, voxel_classes = voxel_box_targets(labels, centres, sizes, yaws, classes)
        self.assertAllEqual(voxel_classes, np.array([[0, 1, 3, 1, -1], [2, 0, 0, -1, -1]]))
        self.assertAllClose(boxes[0, 1], np.array([2, 2, 0.5, 1, 1, 1, 0.2]))
        self.assertAllClose(boxes[0, 2], np.array([1, 1, 0.5, 1, 1, 1, 0.1]))
        self.assertAllClose(boxes[1, 0], np.array([3, 3, 0.5, 2, 2, 2, 0.3]))
        with pytest.raises(ValueError, match="instance 2"):
            voxel_box_targets(
                labels, [centres[1]] * 2, [sizes[1]] * 2, [yaws[1]] * 2, [classes[1]] * 2
            )
        with pytest.raises(ValueError, match="box_classes"):
            voxel_box_targets(labels, centres, sizes, yaws, [np.array([0, 1]), classes[1]])

    @pytest.mark.slow
    def test_predict_boxes_is_class_wise_nms(self):
        keras.utils.set_random_seed(2)
        inputs = voxel_inputs(2)
        model = small_model()
        model(inputs)
        randomize_heads(model, seed=3)
        kernel, _ = model.class_head.get_weights()
        model.class_head.set_weights([kernel, np.array([-1.0, 0.5, 0.5], "float32")])
        origin = np.array([[1.0, 2.0, 0.0], [0.0, 0.0, -1.0]], "float32")
        detections = model.predict_boxes(
            inputs, voxel_origin=origin, score_threshold=0.4, iou_threshold=0.1
        )
        outputs = model(inputs)
        logits = ops.convert_to_numpy(outputs["class_logits"])
        probabilities = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
        for scene, found in enumerate(detections):
            n = inputs["num_valid_voxels"][scene]
            boxes = (
                ops.convert_to_numpy(outputs["boxes"])[scene, :n] + np.r_[origin[scene], [0] * 4]
            )
            scores = probabilities[scene, :n, 1:].max(-1)
            classes = probabilities[scene, :n, 1:].argmax(-1) + 1
            candidates = np.flatnonzero(scores >= 0.4)
            self.assertGreater(len(found["scores"]), 0)
            self.assertLess(len(found["scores"]), len(candidates))
            self.assertTrue(np.all(np.diff(found["scores"]) <= 0))
            kept = [
                int(np.flatnonzero(np.all(np.isclose(boxes, b, atol=1e-5), -1))[0])
                for b in found["boxes"]
            ]
            self.assertAllClose(found["scores"], scores[kept], atol=1e-6)
            self.assertAllEqual(found["classes"], classes[kept])
            # NMS: no two kept boxes of a class overlap above 0.1, and every dropped candidate
            # overlaps a better kept box of its class above 0.1.
            iou = ops.convert_to_numpy(rotated_box_iou_3d(boxes[:, None], boxes[None]))
            for i in candidates:
                same = [k for k in kept if classes[k] == classes[i] and k != i]
                overlap = iou[i, same]
                if i in kept:
                    self.assertTrue(np.all(overlap <= 0.1 + 1e-6))
                else:
                    better = scores[same] >= scores[i]
                    self.assertTrue(np.any((overlap > 0.1) & better))

    @pytest.mark.slow
    @pytest.mark.tensorflow_only  # the TFDS builder, voxel_transform and tf.data
    def test_fit_on_synthetic_scenes_saving_and_preset(self):
        import tensorflow as tf
        import tensorflow_datasets as tfds

        builder = SyntheticScenes(config="tiny", data_dir=self.get_temp_dir())
        builder.download_and_prepare()
        scenes = []
        for example in tfds.as_numpy(builder.as_dataset(split="train")):
            objects = example["objects"]
            scenes.append(
                {
                    "points": example["points"],
                    "colors": example["colors"],
                    "semantic_labels": example["semantic_labels"],
                    "instance_labels": example["instance_labels"],
                    "box_centers": objects["center"],
                    "box_sizes": objects["size"],
                    "box_rotations": objects["rotation"],
                    "box_classes": objects["label"] - 1,
                }
            )
        data = scenes_to_voxels(scenes, VOXEL_SIZE, 600)
        boxes, classes = voxel_box_targets(
            data["voxel_instance_labels"],
            [s["box_centers"] - o for s, o in zip(scenes, data["voxel_origin"])],
            [s["box_sizes"] for s in scenes],
            [s["box_rotations"] for s in scenes],
            [s["box_classes"] for s in scenes],
        )
        self.assertGreater((classes > 0).sum(), 20)
        inputs = {k: data[k] for k in ("voxel_features", "voxel_xyz_indices", "num_valid_voxels")}
        dataset = tf.data.Dataset.from_tensor_slices(
            (inputs, {"boxes": boxes, "classes": classes})
        ).batch(2)
        model = ObjectDetection3D(
            SparseUNet3D([[8], [16]], [16], [[16], [8]]), num_classes=3, voxel_size=VOXEL_SIZE
        )
        # Eager steps: tracing the U-Net takes longer than these few small steps.
        model.compile(optimizer=keras.optimizers.Adam(0.01), run_eagerly=True)
        history = self.run_fit_smoke_test(model, dataset, epochs=4, min_decrease=0.2)
        self.assertIn("box_corner_loss", history.history)
        self.run_model_saving_test(model, (inputs,), atol=1e-5)
        folder = self.get_temp_dir()
        model.save_to_preset(folder, metadata={"metrics": {"ap@0.25": 0.0}})
        loaded = ObjectDetection3D.from_preset(folder)
        self.assertEqual(loaded.voxel_size, VOXEL_SIZE)
        self.assertAllClose(loaded(inputs), model(inputs), atol=1e-5)

    def test_bad_input(self):
        backbone = SparseUNet3D([[8]], [8], [[8]])
        with pytest.raises(ValueError, match="backbone"):
            ObjectDetection3D(keras.layers.Dense(3), num_classes=2, voxel_size=0.1)
        with pytest.raises(ValueError, match="num_classes"):
            ObjectDetection3D(backbone, num_classes=0, voxel_size=0.1)
        with pytest.raises(ValueError, match="voxel_size"):
            ObjectDetection3D(backbone, num_classes=2, voxel_size=-1.0)
        model = ObjectDetection3D(backbone, num_classes=2, voxel_size=0.1)
        with pytest.raises(ValueError, match="Targets must be a dict"):
            model.compute_loss(y=np.zeros((1, 4, 7)), y_pred=None)
        with pytest.raises(ValueError, match="Inputs must be a dict"):
            model(np.zeros((1, 4, 3)))

    def test_shipped_preset_gives_the_tensorflow_outputs(self):
        # Computed once under TensorFlow by loading the preset and printing its outputs on
        # `preset_inputs` (KERAS_BACKEND=tensorflow): the first 3 voxels' first 4 channels and
        # the sum of absolute values over all voxels.
        outputs = ObjectDetection3D.from_preset("synthetic_scenes_detection")(preset_inputs(4))
        expected = {
            "boxes": (
                [
                    [0.00524, 0.31902, -0.08191, 0.56142],
                    [-0.05573, 0.39166, 0.6678, 0.5102],
                    [-0.14678, 0.31956, 0.79835, 0.50795],
                ],
                132.01959,
            ),
            "class_logits": (
                [
                    [3.17837, -4.53513, -5.06588, -4.52845],
                    [2.33493, -3.68563, -4.13109, -4.01484],
                    [3.0696, -4.09806, -4.32704, -4.55893],
                ],
                534.03857,
            ),
        }
        for key, (first, total) in expected.items():
            value = ops.convert_to_numpy(outputs[key])
            self.assertAllClose(value[0, :3, :4], np.array(first), atol=1e-4, rtol=0)
            self.assertAllClose(np.abs(value).sum(), total, atol=0, rtol=1e-5)
