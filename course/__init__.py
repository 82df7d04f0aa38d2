"""course: the reference library of the deep-learning-from-the-ground-up course.

The maths lives in pure forward/backward pairs, one file per concept, re-exported flat from
``course.layers``; modules, optimisers, the mini TensorFlow, data and training helpers sit beside them.
"""

__version__ = "0.1.0"
