from keras_suite.layers.sparse import (
    SparseAvgPool3D,
    SparseBatchNormalization,
    SparseConv3D,
    SparseMaxPool3D,
    SparseUnpool3D,
)
from keras_suite.layers.transporter import (
    GoalTransporterTransport,
    TransporterAttention,
    TransporterResNet,
    TransporterTransport,
)
from keras_suite.layers.world_model.categorical_rssm import CategoricalRSSM
from keras_suite.layers.world_model.conv_decoder import ConvDecoder
from keras_suite.layers.world_model.conv_encoder import ConvEncoder
from keras_suite.layers.world_model.gaussian_rssm import GaussianRSSM
from keras_suite.layers.world_model.layer_norm_gru_cell import LayerNormGRUCell
from keras_suite.layers.world_model.mlp_encoder import MLPEncoder
from keras_suite.layers.world_model.mlp_head import MLPHead
