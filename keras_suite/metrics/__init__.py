from keras_suite.metrics.detection_ap_3d import DetectionAP3D
from keras_suite.metrics.instance_ap_3d import InstanceAP3D, average_precision
from keras_suite.metrics.mean_iou_3d import MeanIoU3D
