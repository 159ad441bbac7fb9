"""DreamerV2: world model, actor-critic, agent, replay, training loop and recipes."""

from keras_suite.zoo.dreamer.actor_critic import ActorCritic
from keras_suite.zoo.dreamer.configs import CONFIGS, get_config
from keras_suite.zoo.dreamer.dreamer_v2 import DreamerV2
from keras_suite.zoo.dreamer.evaluate import evaluate, save_episode_gif
from keras_suite.zoo.dreamer.learning_curve import plot_learning_curve, plot_learning_curves
from keras_suite.zoo.dreamer.loss_plot import plot_losses
from keras_suite.zoo.dreamer.make_env import make_env
from keras_suite.zoo.dreamer.replay import EpisodeReplay
from keras_suite.zoo.dreamer.train import train
from keras_suite.zoo.dreamer.trainer import Trainer
from keras_suite.zoo.dreamer.world_model import WorldModel
