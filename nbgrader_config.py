"""nbgrader reads this file from the course root (the repository root); the settings live in autograder/."""

c = get_config()  # noqa: F821 (injected by the traitlets config loader)
load_subconfig("autograder/nbgrader_config.py")  # noqa: F821
