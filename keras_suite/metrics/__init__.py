from keras_suite.metrics.mean_iou_3d import MeanIoU3D
