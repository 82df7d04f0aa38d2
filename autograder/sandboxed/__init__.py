"""What runs inside the sandbox (mounted read-only there, on its ``PYTHONPATH`` as top-level modules):
``runner`` executes the notebook, ``course_judge_agent`` answers the judge, ``wire`` is the format both
ends speak. Nothing here holds a check, a reference or a secret."""
