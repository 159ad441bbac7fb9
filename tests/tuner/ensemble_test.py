import os

import keras
import numpy as np
import pytest

from keras_suite.testing.test_case import TestCase
from keras_suite.tuner import build_ensemble


def _member(name, seed):
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(
        8, activation="relu", kernel_initializer=keras.initializers.GlorotUniform(seed)
    )(inputs)
    outputs = keras.layers.Dense(3, activation="softmax")(hidden)
    return keras.Model(inputs, outputs, name=name)


class EnsembleTest(TestCase):
    def setUp(self):
        super().setUp()
        self.members = [_member(f"m{i}", i) for i in range(3)]
        self.x = np.random.default_rng(0).normal(size=(6, 4)).astype("float32")

    def test_average_is_the_exact_mean_of_member_predictions(self):
        ensemble = build_ensemble(self.members)
        expected = np.mean([m.predict(self.x, verbose=0) for m in self.members], axis=0)
        self.assertAllClose(ensemble.predict(self.x, verbose=0), expected, atol=1e-7)

    def test_weighted_starts_as_the_average_and_trains_only_its_weights(self):
        ensemble = build_ensemble(self.members, method="weighted")
        predictions = [m.predict(self.x, verbose=0) for m in self.members]
        self.assertAllClose(ensemble(self.x), np.mean(predictions, axis=0), atol=1e-6)
        self.assertLen(ensemble.trainable_weights, 1)
        ensemble.get_layer("weighted_average").logits.assign([0.0, np.log(3.0), 0.0])
        expected = (predictions[0] + 3 * predictions[1] + predictions[2]) / 5
        self.assertAllClose(ensemble(self.x), expected, atol=1e-6)
        before = [m.get_weights() for m in self.members]
        ensemble.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        ensemble.fit(self.x, np.array([0, 1, 2, 0, 1, 2]), epochs=2, verbose=0)
        for member, weights in zip(self.members, before):
            self.assertAllEqual(member.get_weights(), weights)

    def test_save_and_load(self):
        ensemble = build_ensemble(self.members)
        path = os.path.join(self.get_temp_dir(), "ensemble.keras")
        ensemble.save(path)
        restored = keras.saving.load_model(path)
        self.assertAllClose(restored(self.x), ensemble(self.x))

    def test_bad_input(self):
        with pytest.raises(ValueError, match="at least two members"):
            build_ensemble(self.members[:1])
        with pytest.raises(ValueError, match="method='vote'"):
            build_ensemble(self.members, method="vote")
        with pytest.raises(ValueError, match="distinct names"):
            build_ensemble([self.members[0], self.members[0]])
