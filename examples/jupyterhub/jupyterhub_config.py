"""JupyterHub for the course when the class outgrows one shared machine: nbgrader's multi-user setup.

Every student and TA logs in to the hub and gets a JupyterLab of their own (the student environment: no
formgrader, no create-assignment); the course itself is a hub *service*, a JupyterLab that runs as the
grader account in the course repository with the formgrader on, reachable by the formgrade group only.
Hand-in goes through nbgrader's exchange folder, which every user server must see at the same path (on a
cluster: a shared filesystem mounted on every node). README.md beside this file has the steps; the file
is syntax-checked by tests/test_exchange.py, not run.

Environment: COURSE_GRADER_TOKEN (the service's API token, ``openssl rand -hex 32``), COURSE_ROSTER (the
class CSV, the same one autograder/nbgrader_config.py names), COURSE_STAFF (instructors:TAs, see below).
"""

import csv
import os
from pathlib import Path

COURSE = "dl-ground-up"  # = autograder.settings.COURSE_ID, nbgrader's course id
GRADER = f"grader-{COURSE}"  # the Unix account that owns the course repository and the gradebook
STUDENT_ENV = Path("/opt/dl-ground-up/student-env")  # JupyterLab, nbgrader, the course's student wheels
GRADER_ENV = Path("/opt/dl-ground-up/grader-env")  # the course repository installed with its dev extra
COURSE_REPO = Path(f"/home/{GRADER}/course")  # a clone of this repository (its nbgrader_config.py)

# The class list is the roster CSV (id,first_name,last_name,email): ids are the login names.
roster = Path(os.environ.get("COURSE_ROSTER", "/srv/dl-ground-up/roster.csv"))
students = {row["id"] for row in csv.DictReader(roster.open())} if roster.is_file() else set()
# "alice,bob:carol,dave" -> instructors alice and bob, teaching assistants carol and dave
instructor_list, _, ta_list = os.environ.get("COURSE_STAFF", "instructor:").partition(":")
instructors = {u for u in instructor_list.split(",") if u}
tas = {u for u in ta_list.split(",") if u}

c = get_config()  # noqa: F821 (injected by the traitlets config loader)

# Behind a TLS-terminating proxy (nginx, Caddy) on the same host.
c.JupyterHub.bind_url = "http://127.0.0.1:8000"
c.Authenticator.allowed_users = students | instructors | tas
c.Authenticator.admin_users = instructors

# Users' servers: system accounts (LocalProcessSpawner). For more users than one server carries, use
# SystemdSpawner (limits per user) or DockerSpawner/KubeSpawner; then mount the exchange (/srv/nbgrader/
# exchange) and the home folders into every server at the same paths.
c.Spawner.cmd = [str(STUDENT_ENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}

# nbgrader's convention: group formgrade-<course> may use the course service (the formgrader),
# group nbgrader-<course> sees the course in the Assignments tab (fetch, submit, feedback).
c.JupyterHub.load_groups = {
    f"formgrade-{COURSE}": {"users": sorted(instructors | tas)},
    f"nbgrader-{COURSE}": {"users": sorted(students | instructors | tas)},
}
c.JupyterHub.load_roles = [
    {"name": "instructor", "users": sorted(instructors), "scopes": ["admin:users", "admin:servers"]},
    {
        "name": f"formgrade-{COURSE}",
        "groups": [f"formgrade-{COURSE}"],
        "scopes": [f"access:services!service={COURSE}"],
    },
    {
        "name": f"nbgrader-{COURSE}",
        "groups": [f"nbgrader-{COURSE}"],
        "scopes": ["list:services", f"read:services!service={COURSE}"],
    },
    # the Assignments tab asks the hub which courses its user belongs to, with the server's token
    {"name": "server", "scopes": ["inherit"]},
]

# The course service: JupyterLab as the grader account in the course repository, formgrader on (the
# grader environment keeps nbgrader's default extensions). TAs open https://<hub>/services/dl-ground-up/.
c.JupyterHub.services = [
    {
        "name": COURSE,
        "url": "http://127.0.0.1:9999",
        "command": [str(GRADER_ENV / "bin" / "jupyterhub-singleuser")],
        "user": GRADER,
        "cwd": str(COURSE_REPO),
        "environment": {"JUPYTERHUB_DEFAULT_URL": "/lab", "OPENBLAS_NUM_THREADS": "1"},
        "api_token": os.environ["COURSE_GRADER_TOKEN"],
        "oauth_no_confirm": True,
    }
]
