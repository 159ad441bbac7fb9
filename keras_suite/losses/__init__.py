from keras_suite.losses.box_corner_loss_3d import BoxCornerLoss3D, box_corners_3d
from keras_suite.losses.dynamic_box_classification_loss_3d import (
    DynamicBoxClassificationLoss3D,
)
from keras_suite.losses.instance_embedding_loss_3d import InstanceEmbeddingLoss3D
from keras_suite.losses.kl_balancing import categorical_kl, gaussian_kl, kl_balancing
from keras_suite.losses.semantic_cross_entropy_3d import SemanticCrossEntropy3D
