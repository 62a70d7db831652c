"""Pre/post-processing and metrics shared by training, evaluation, conversion and serving.

Depends only on numpy and Pillow, so that the serving image never needs TensorFlow.
"""
