"""A mini TensorFlow (lecture 000): a graph builder, a session that runs it, and symbolic gradients.

- ``course.minitf.graph``: ``Graph`` (the builder) and ``Node`` (a vertex with its dependency list);
- ``course.minitf.ops``: the operator experts, each a forward formula beside its gradient rule;
- ``course.minitf.session``: the DAG expert: ``topological_order``, ``Session.run``, the gradient walk;
- ``course.minitf.draw``: ``draw_graph`` draws a graph with matplotlib.
"""

from course.minitf.graph import Graph, Node
from course.minitf.session import Session, gradients, topological_order

__all__ = ["Graph", "Node", "Session", "gradients", "topological_order"]
