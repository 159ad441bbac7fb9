import json
import os
from unittest import mock

import h5py
import keras
import numpy as np

from keras_suite.presets import PresetMixin
from keras_suite.testing import TestCase


@keras.saving.register_keras_serializable(package="keras_suite_tests")
class TinyNet(PresetMixin, keras.Model):
    def __init__(self, units=4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.hidden = keras.layers.Dense(units, activation="relu")
        self.out = keras.layers.Dense(2)

    def build(self, input_shape):
        self.hidden.build(input_shape)
        self.out.build(tuple(input_shape[:-1]) + (self.units,))

    def call(self, x):
        return self.out(self.hidden(x))

    def get_config(self):
        return dict(super().get_config(), units=self.units)


@keras.saving.register_keras_serializable(package="keras_suite_tests")
class OtherNet(TinyNet):
    pass


def _tiny_net(units=4):
    model = TinyNet(units=units)
    model(np.zeros((1, 3), "float32"))
    return model


class PresetMixinTest(TestCase):
    def test_round_trip_through_a_local_folder(self):
        model = _tiny_net()
        x = np.random.default_rng(0).normal(size=(5, 3)).astype("float32")
        path = os.path.join(self.get_temp_dir(), "tiny")
        model.save_to_preset(path, metadata={"training_data": "none", "metrics": {"acc": 0.5}})

        restored = TinyNet.from_preset(path)
        self.assertIsInstance(restored, TinyNet)
        self.assertEqual(restored.units, 4)
        self.assertAllClose(restored(x), model(x))

        with open(os.path.join(path, "metadata.json")) as f:
            metadata = json.load(f)
        self.assertEqual(metadata["parameter_count"], 3 * 4 + 4 + 4 * 2 + 2)
        self.assertEqual(metadata["keras_version"], keras.__version__)
        self.assertEqual(metadata["training_data"], "none")
        self.assertEqual(metadata["metrics"], {"acc": 0.5})
        self.assertIn("keras_suite_version", metadata)

    def test_a_compiled_model_saves_an_uncompiled_preset(self):
        model = _tiny_net()
        model.compile(optimizer="adam", loss="mse")
        x = np.random.default_rng(1).normal(size=(4, 3)).astype("float32")
        model.fit(x, np.zeros((4, 2), "float32"), epochs=1, verbose=0)
        path = os.path.join(self.get_temp_dir(), "tiny")
        model.save_to_preset(path)

        with open(os.path.join(path, "config.json")) as f:
            self.assertNotIn("compile_config", json.load(f))
        with h5py.File(os.path.join(path, "model.weights.h5")) as f:
            self.assertNotIn("optimizer", f)
        restored = TinyNet.from_preset(path)
        self.assertFalse(restored.compiled)
        self.assertAllClose(restored(x), model(x))

    def test_without_weights_keeps_fresh_initialization(self):
        model = _tiny_net()
        path = os.path.join(self.get_temp_dir(), "tiny")
        model.save_to_preset(path)
        fresh = TinyNet.from_preset(path, load_weights=False)
        self.assertTrue(fresh.built)
        self.assertFalse(np.allclose(fresh.out.kernel.numpy(), model.out.kernel.numpy()))

    def test_config_overrides(self):
        path = os.path.join(self.get_temp_dir(), "tiny")
        _tiny_net().save_to_preset(path)
        self.assertEqual(TinyNet.from_preset(path, load_weights=False, units=8).units, 8)

    def test_builtin_presets_resolve_by_name_and_list(self):
        builtin = self.get_temp_dir()
        _tiny_net().save_to_preset(
            os.path.join(builtin, "tiny_digits"),
            {"training_data": "x", "description": "A tiny net on digits."},
        )
        _tiny_net().save_to_preset(os.path.join(builtin, "undescribed"), {"metrics": [1, 2]})
        os.makedirs(os.path.join(builtin, "not_a_preset"))

        with mock.patch.object(TinyNet, "preset_dir", builtin):
            self.assertEqual(
                TinyNet.presets, {"tiny_digits": "A tiny net on digits.", "undescribed": ""}
            )
            metadata = TinyNet.preset_metadata("tiny_digits")
            self.assertEqual(metadata["training_data"], "x")
            self.assertEqual(metadata["parameter_count"], 26)
            self.assertIsInstance(TinyNet.from_preset("tiny_digits"), TinyNet)

    def test_metadata_of_a_local_folder_and_of_an_unknown_preset(self):
        path = os.path.join(self.get_temp_dir(), "tiny")
        _tiny_net().save_to_preset(path, {"description": "local"})
        self.assertEqual(TinyNet.preset_metadata(path)["description"], "local")
        with self.assertRaisesRegex(ValueError, "Received: preset='nope'"):
            TinyNet.preset_metadata("nope")

    def test_unknown_preset_lists_the_known_ones(self):
        builtin = self.get_temp_dir()
        _tiny_net().save_to_preset(os.path.join(builtin, "tiny_digits"))

        with mock.patch.object(TinyNet, "preset_dir", builtin):
            with self.assertRaisesRegex(ValueError, "tiny_digits.*Received: preset='nope'"):
                TinyNet.from_preset("nope")
        with self.assertRaisesRegex(ValueError, "Built-in presets: none"):
            TinyNet.from_preset(self.get_temp_dir())
        with self.assertRaisesRegex(ValueError, "Received: preset=3"):
            TinyNet.from_preset(3)

    def test_preset_of_another_class_is_refused(self):
        model = OtherNet()
        model(np.zeros((1, 3), "float32"))
        path = os.path.join(self.get_temp_dir(), "other")
        model.save_to_preset(path)
        self.assertIsInstance(TinyNet.from_preset(path), OtherNet)
        _tiny_net().save_to_preset(path)
        with self.assertRaisesRegex(ValueError, "holds a `TinyNet`, not a `OtherNet`"):
            OtherNet.from_preset(path)

    def test_missing_weights_and_unbuilt_model(self):
        path = os.path.join(self.get_temp_dir(), "tiny")
        _tiny_net().save_to_preset(path)
        os.remove(os.path.join(path, "model.weights.h5"))
        with self.assertRaisesRegex(FileNotFoundError, "load_weights=False"):
            TinyNet.from_preset(path)
        with self.assertRaisesRegex(ValueError, "must be built"):
            TinyNet().save_to_preset(path)


@keras.saving.register_keras_serializable(package="keras_suite_tests")
class UnbuildableNet(TinyNet):
    """Builds only when called on data, as a model with a data-dependent `build` would."""

    def build_from_config(self, config):
        pass


class UnbuildablePresetTest(TestCase):
    def test_a_model_that_cannot_rebuild_from_json_shapes_is_refused(self):
        model = UnbuildableNet()
        model(np.zeros((1, 3), "float32"))
        path = os.path.join(self.get_temp_dir(), "unbuildable")
        model.save_to_preset(path)
        with self.assertRaisesRegex(ValueError, "has 0 parameters but the preset has 26"):
            UnbuildableNet.from_preset(path)
