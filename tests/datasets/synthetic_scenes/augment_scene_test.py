import numpy as np

from keras_suite.datasets.synthetic_scenes import augment_scene, generate_scene


def test_augment_scene_is_a_horizontal_similarity():
    scene = generate_scene(3, num_points=500)
    augmented = augment_scene(scene, np.random.default_rng(1))
    again = augment_scene(scene, np.random.default_rng(1))
    np.testing.assert_array_equal(augmented["points"], again["points"])
    for key in ("colors", "semantic_labels", "instance_labels"):
        np.testing.assert_array_equal(augmented[key], scene[key])
    np.testing.assert_allclose(augmented["points"][:, 2], scene["points"][:, 2])
    before = np.linalg.norm(scene["points"][:250, :2] - scene["points"][250:, :2], axis=-1)
    after = np.linalg.norm(augmented["points"][:250, :2] - augmented["points"][250:, :2], axis=-1)
    ratio = after / before
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-4)
    assert 0.9 <= ratio[0] <= 1.1
    centre = (scene["points"].min(0) + scene["points"].max(0)) / 2
    moved = np.abs(augmented["points"][:, :2] - scene["points"][:, :2]).max()
    assert moved > 0.05
    # The room's centre is the fixed point: distances to it scale by the same factor.
    np.testing.assert_allclose(
        np.linalg.norm(augmented["points"][:, :2] - centre[:2], axis=-1),
        ratio[0] * np.linalg.norm(scene["points"][:, :2] - centre[:2], axis=-1),
        rtol=1e-4,
        atol=1e-5,
    )
