"""A mini TensorFlow (lecture 000): a graph builder, a session that runs it, and symbolic gradients.

The modules import each other in this order only (``ops`` names ``Graph`` and ``Node`` in type hints alone):
- ``course.minitf.ops``: the operator experts, each a forward formula beside its gradient rule;
- ``course.minitf.graph``: ``Graph`` (the builder) and ``Node`` (a vertex with its dependency list), and
  ``smooth_max``, a composite of builder methods;
- ``course.minitf.session``: the DAG expert: ``topological_order``, ``run`` and ``Session``, the gradient
  walk ``gradients`` and the ``sgd_optimizer`` node;
- ``course.minitf.draw``: ``draw_graph`` draws a graph with matplotlib.
"""

from course.minitf.graph import Graph, Node, smooth_max
from course.minitf.session import Session, gradients, run, sgd_optimizer, topological_order

__all__ = ["Graph", "Node", "Session", "gradients", "run", "sgd_optimizer", "smooth_max", "topological_order"]
