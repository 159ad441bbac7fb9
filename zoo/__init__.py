from keras_suite.zoo.dreamer import ActorCritic, DreamerV2, WorldModel
from keras_suite.zoo.tf3d import (
    InstanceSegmentation3D,
    ObjectDetection3D,
    SemanticSegmentation3D,
    SparseUNet3D,
)
from keras_suite.zoo.transporter import GoalTransporterNet, TransporterNet
