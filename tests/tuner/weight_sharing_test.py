import keras
import numpy as np

from keras_suite.testing.test_case import TestCase
from keras_suite.tuner import ModelSearchOracle, align_blocks, share_weights
from keras_suite.tuner.model_search import ModelSearch


def _values(architecture):
    import json

    return {"architecture": json.dumps(architecture), "dropout": 0.0}


class WeightSharingTest(TestCase):
    def _build(self, architecture, seed):
        keras.utils.set_random_seed(seed)
        tuner = ModelSearch(
            ModelSearchOracle(objective="val_accuracy"),
            num_classes=3,
            directory=self.get_temp_dir(),
        )
        return tuner.build_model(_values(architecture), (6,), name=f"m{seed}")

    def test_copies_exactly_the_layers_that_fit(self):
        parent = self._build(["dense_32", "dense_64"], seed=1)
        child = self._build(["dense_32", "dense_64", "dense_32"], seed=2)
        fresh = {layer.name: layer.get_weights() for layer in child.layers}
        copied = share_weights(parent, child)
        # Independent reference: same name and same weight shapes in both models.
        parent_shapes = {
            layer.name: [w.shape for w in layer.get_weights()] for layer in parent.layers
        }
        expected = sorted(
            layer.name
            for layer in child.layers
            if layer.weights
            and parent_shapes.get(layer.name) == [tuple(w.shape) for w in layer.weights]
        )
        self.assertEqual(copied, expected)
        self.assertEqual(copied, ["b0_dense_32_dense", "b1_dense_64_dense"])
        for layer in child.layers:
            if layer.name in copied:
                self.assertAllEqual(layer.get_weights(), parent.get_layer(layer.name).get_weights())
            else:
                self.assertAllEqual(layer.get_weights(), fresh[layer.name])
        # The head takes 32 features in the child but 64 in the parent: not copied.
        self.assertNotIn("head", copied)

    def test_replaced_block_starts_fresh_but_the_head_fits(self):
        parent = self._build(["dense_32", "dense_64"], seed=3)
        child = self._build(["dense_32", "residual_dense_64"], seed=4)
        self.assertEqual(share_weights(parent, child), ["b0_dense_32_dense", "head"])
        x = np.ones((1, 6), "float32")
        self.assertAllClose(
            child.get_layer("b0_dense_32_dense")(x), parent.get_layer("b0_dense_32_dense")(x)
        )

    def test_blocks_moved_by_an_insertion_keep_their_weights(self):
        parent_arch = ["dense_32", "dense_64"]
        child_arch = ["dense_128", "dense_32", "dense_64"]
        parent = self._build(parent_arch, seed=5)
        child = self._build(child_arch, seed=6)
        block_map = align_blocks(parent_arch, child_arch)
        self.assertEqual(block_map, {1: 0, 2: 1})
        fresh = {layer.name: layer.get_weights() for layer in child.layers}
        # Without the map, names are positional: nothing of the moved blocks fits.
        self.assertEqual(share_weights(parent, self._build(child_arch, seed=7)), ["head"])
        copied = share_weights(parent, child, block_map)
        # dense_32 now reads 128 features instead of 6: it cannot fit; dense_64 and the head do.
        self.assertEqual(copied, ["b2_dense_64_dense", "head"])
        self.assertAllEqual(
            child.get_layer("b2_dense_64_dense").get_weights(),
            parent.get_layer("b1_dense_64_dense").get_weights(),
        )
        for name in ("b0_dense_128_dense", "b1_dense_32_dense"):
            self.assertAllEqual(child.get_layer(name).get_weights(), fresh[name])

    def test_align_blocks_is_a_longest_common_subsequence(self):
        self.assertEqual(align_blocks(["a", "b", "c"], ["a", "c"]), {0: 0, 1: 2})
        self.assertEqual(align_blocks(["a", "b"], ["a", "x", "b"]), {0: 0, 2: 1})
        self.assertEqual(align_blocks(["a", "b"], ["a", "c"]), {0: 0})
        self.assertEqual(align_blocks(["a", "a"], ["a", "a", "a"]), {0: 0, 1: 1})
        self.assertEqual(align_blocks([], ["a"]), {})
