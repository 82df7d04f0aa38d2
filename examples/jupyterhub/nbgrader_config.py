"""nbgrader settings for every account of the hub machine: copy to /etc/jupyter/nbgrader_config.py.

Students' servers, TAs' servers and the course service all read it. The course repository's own config
(autograder/nbgrader_config.py, read by the course service in the repository) names the same exchange.
"""

from nbgrader.auth import JupyterHubAuthPlugin

c = get_config()  # noqa: F821 (injected by the traitlets config loader)

# Who may fetch and submit what: the hub's groups nbgrader-<course> (see jupyterhub_config.py).
c.Authenticator.plugin_class = JupyterHubAuthPlugin
# The shared hand-in folder (world-writable; nbgrader keeps its inbound folder write-only for students).
c.Exchange.root = "/srv/nbgrader/exchange"
# Fetched assignments go to ~/<course>/<assignment>/, so a second course on the hub cannot collide.
c.Exchange.path_includes_course = True
