from keras_suite.envs import atari, ravens
from keras_suite.envs.gym_adapter import GymAdapter
from keras_suite.envs.minatar import MinAtarEnv, make_minatar
from keras_suite.envs.pixel_cartpole import PixelCartPole
