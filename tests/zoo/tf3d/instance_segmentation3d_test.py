import json
import os

import keras
import numpy as np
import pytest
from keras import ops

from keras_suite.datasets.synthetic_scenes import generate_scene
from keras_suite.losses import InstanceEmbeddingLoss3D, SemanticCrossEntropy3D
from keras_suite.ops import group_instances, voxelize
from keras_suite.testing import TestCase
from keras_suite.zoo import InstanceSegmentation3D, SparseUNet3D

from .scene_inputs import preset_inputs, scenes_to_voxels

VOXEL_KEYS = ("voxel_features", "voxel_xyz_indices", "num_valid_voxels")


def voxel_inputs(seed, batch=2, num_voxels=80, extent=10):
    rng = np.random.default_rng(seed)
    xyz = np.stack([rng.choice(extent**3, num_voxels, replace=False) for _ in range(batch)])
    xyz = np.stack(np.unravel_index(xyz, (extent,) * 3), -1).astype("int32")
    return {
        "voxel_features": rng.normal(size=(batch, num_voxels, 3)).astype("float32"),
        "voxel_xyz_indices": xyz,
        "num_valid_voxels": np.array([num_voxels, num_voxels // 2], "int32"),
    }


def small_model(**kwargs):
    backbone = SparseUNet3D([[8], [16]], [16], [[16], [8]])
    kwargs = {"num_classes": 3, "embedding_dim": 4, "thing_classes": [1, 2], **kwargs}
    return InstanceSegmentation3D(backbone, **kwargs)


class InstanceSegmentation3DTest(TestCase):
    def test_heads_on_backbone(self):
        inputs = voxel_inputs(0)
        model = small_model()
        outputs = model(inputs)
        features = ops.convert_to_numpy(model.backbone(inputs))
        for key, head in (
            ("semantic_logits", model.semantic_head),
            ("embeddings", model.embedding_head),
        ):
            kernel, bias = head.get_weights()
            expected = features @ kernel[0, 0, 0] + bias
            actual = ops.convert_to_numpy(outputs[key])
            self.assertAllClose(actual[0], expected[0], atol=1e-5)
            self.assertAllClose(actual[1, :40], expected[1, :40], atol=1e-5)
            self.assertTrue(np.all(actual[1, 40:] == 0))

    def test_coordinate_scale_adds_voxel_positions(self):
        inputs = voxel_inputs(4)
        plain = small_model(embedding_dim=5)
        spatial = small_model(embedding_dim=5, coordinate_scale=0.3)
        plain(inputs)
        spatial(inputs)
        spatial.set_weights(plain.get_weights())
        expected = ops.convert_to_numpy(plain(inputs)["embeddings"])
        expected[..., :3] += 0.3 * inputs["voxel_xyz_indices"]
        expected[1, 40:] = 0.0
        self.assertAllClose(spatial(inputs)["embeddings"], expected, atol=1e-5)

    def test_predict_instances_groups_the_outputs(self):
        rng = np.random.default_rng(1)
        points = rng.uniform(0, 2, (2, 300, 3)).astype("float32")
        voxels = voxelize(points, points, np.array([300, 200], "int32"), 0.25, 200)
        inputs = {key: getattr(voxels, key) for key in VOXEL_KEYS}
        # A large radius and no score floor so that the random model still forms instances.
        model = small_model(grouping_radius=0.05, min_score=0.0, min_instance_size=1)
        outputs = model(inputs, training=False)
        probabilities = ops.convert_to_numpy(ops.softmax(outputs["semantic_logits"]))
        expected = group_instances(
            outputs["embeddings"], probabilities, voxels.num_valid_voxels, [1, 2], 0.05, 0.0, 1, 32
        )
        found = model.predict_instances(inputs)
        for actual, reference in zip(found, expected):
            self.assertAllClose(actual, reference, atol=1e-6)
        self.assertGreater(int(found.num_instances[0]), 0)
        point_found = model.predict_point_instances(inputs, voxels.point_to_voxel)
        p2v = ops.convert_to_numpy(voxels.point_to_voxel)
        voxel_ids = found.instance_ids
        for i in range(2):
            expected_ids = np.where(p2v[i] >= 0, voxel_ids[i][np.maximum(p2v[i], 0)], -1)
            self.assertAllEqual(point_found.instance_ids[i], expected_ids)
        self.assertAllEqual(point_found.instance_classes, found.instance_classes)

    @pytest.mark.slow
    @pytest.mark.tensorflow_only  # voxel_transform and the dataset are tf.data pipelines
    def test_fit_on_synthetic_scenes_saving_and_preset(self):
        import tensorflow as tf

        scenes = [generate_scene(seed, num_points=1500, max_objects=3) for seed in range(2)]
        data = scenes_to_voxels(scenes, 0.3, 400)
        inputs = {key: data[key] for key in VOXEL_KEYS}
        targets = {
            "semantic_logits": data["voxel_semantic_labels"],
            "embeddings": np.where(
                data["voxel_instance_labels"] > 0, data["voxel_instance_labels"], -1
            ),
        }
        dataset = tf.data.Dataset.from_tensor_slices((inputs, targets)).batch(2)
        model = InstanceSegmentation3D(
            SparseUNet3D([[8]], [8], [[8]]), num_classes=5, embedding_dim=4, thing_classes=[2, 3, 4]
        )
        model.compile(
            optimizer=keras.optimizers.Adam(0.01),
            loss={
                "semantic_logits": SemanticCrossEntropy3D(),
                "embeddings": InstanceEmbeddingLoss3D(),
            },
        )
        history = self.run_fit_smoke_test(model, dataset, epochs=3, min_decrease=0.1)
        self.assertIn("embeddings_loss", history.history)
        self.assertLess(
            history.history["embeddings_loss"][-1], history.history["embeddings_loss"][0]
        )
        batch = {key: value[:2] for key, value in inputs.items()}
        restored = self.run_model_saving_test(model, (batch,), atol=1e-5)
        self.assertEqual(restored.thing_classes, [2, 3, 4])
        folder = self.get_temp_dir()
        model.save_to_preset(folder, metadata={"metrics": {"instance_ap_50": 0.5}})
        loaded = InstanceSegmentation3D.from_preset(folder)
        self.assertAllClose(loaded(batch), model(batch), atol=1e-5)
        for actual, expected in zip(
            loaded.predict_instances(batch), model.predict_instances(batch)
        ):
            self.assertAllClose(actual, expected, atol=1e-5)

    def test_functional_api(self):
        inputs = voxel_inputs(3)
        model = small_model()
        symbolic = {
            "voxel_features": keras.Input((80, 3), name="voxel_features"),
            "voxel_xyz_indices": keras.Input((80, 3), dtype="int32", name="voxel_xyz_indices"),
            "num_valid_voxels": keras.Input((), dtype="int32", name="num_valid_voxels"),
        }
        functional = keras.Model(symbolic, model(symbolic))
        expected = model(inputs)
        actual = functional(inputs)
        for key in ("semantic_logits", "embeddings"):
            self.assertAllClose(actual[key], expected[key], atol=1e-6)

    def test_shipped_preset_loads_offline(self):
        assert "synthetic_scenes_instance" in InstanceSegmentation3D.presets
        folder = os.path.join(InstanceSegmentation3D.preset_dir, "synthetic_scenes_instance")
        with open(os.path.join(folder, "metadata.json")) as f:
            metadata = json.load(f)
        self.assertIn("instance_ap_50_voxels_held_out", metadata["metrics"])
        model = InstanceSegmentation3D.from_preset("synthetic_scenes_instance")
        self.assertEqual(model.count_params(), metadata["parameter_count"])
        self.assertEqual(model.thing_classes, metadata["thing_classes"])

    def test_config_round_trip(self):
        model = small_model(grouping_radius=0.7, max_instances=5, coordinate_scale=0.2)
        restored = InstanceSegmentation3D.from_config(model.get_config())
        self.assertEqual(restored.get_config(), model.get_config())

    def test_bad_arguments(self):
        backbone = SparseUNet3D([[8]], [8], [[8]])
        with pytest.raises(ValueError, match="backbone"):
            InstanceSegmentation3D(keras.layers.Dense(3), num_classes=3)
        with pytest.raises(ValueError, match="thing_classes"):
            InstanceSegmentation3D(backbone, num_classes=3, thing_classes=[3])
        with pytest.raises(ValueError, match="embedding_dim"):
            InstanceSegmentation3D(backbone, num_classes=3, embedding_dim=0)
        with pytest.raises(ValueError, match="coordinate_scale"):
            InstanceSegmentation3D(backbone, num_classes=3, embedding_dim=2, coordinate_scale=0.1)
        with pytest.raises(ValueError, match="grouping_radius"):
            InstanceSegmentation3D(backbone, num_classes=3, grouping_radius=0.0)
        with pytest.raises(ValueError, match="Inputs must be a dict"):
            small_model()(np.zeros((1, 4, 3), "float32"))

    def test_shipped_preset_gives_the_tensorflow_outputs(self):
        # Computed once under TensorFlow by loading the preset and printing its outputs on
        # `preset_inputs` (KERAS_BACKEND=tensorflow): the first 3 voxels' first 4 channels and
        # the sum of absolute values over all voxels.
        outputs = InstanceSegmentation3D.from_preset("synthetic_scenes_instance")(preset_inputs(4))
        expected = {
            "embeddings": (
                [
                    [1.23775, -0.69699, -1.36691, 0.27557],
                    [0.90241, -0.35696, 2.13024, 0.34381],
                    [1.11371, -0.56175, 1.74677, 0.81121],
                ],
                226.70688,
            ),
            "semantic_logits": (
                [
                    [1.00473, -1.82606, -4.35047, -4.41274],
                    [-1.51138, -1.43651, -2.87001, -1.76976],
                    [1.29078, -5.03209, -3.421, -2.09064],
                ],
                478.8143,
            ),
        }
        for key, (first, total) in expected.items():
            value = ops.convert_to_numpy(outputs[key])
            self.assertAllClose(value[0, :3, :4], np.array(first), atol=1e-4, rtol=0)
            self.assertAllClose(np.abs(value).sum(), total, atol=0, rtol=1e-5)
