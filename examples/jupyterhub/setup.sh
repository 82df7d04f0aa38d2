#!/usr/bin/env bash
# Sets up the course's JupyterHub on a fresh Debian/Ubuntu server, as root, from a checkout of the course
# repository: accounts from the roster, the three environments, the exchange, the configs (README.md beside
# this file explains each step). Syntax-checked by tests/test_exchange.py, never run by the tests.
#
#   sudo bash examples/jupyterhub/setup.sh /path/to/roster.csv
set -euo pipefail
COURSE=dl-ground-up
GRADER=grader-$COURSE
ROSTER=${1:?usage: setup.sh ROSTER.csv (id,first_name,last_name,email)}
REPO=$(cd "$(dirname "$0")/../.." && pwd)
HERE=$REPO/examples/jupyterhub
OPT=/opt/$COURSE

apt-get update -q
apt-get install -y -q python3-venv nodejs npm git
npm install -g configurable-http-proxy

# Accounts: the grader (owns the course repository and the gradebook), then every id of the roster.
id "$GRADER" >/dev/null 2>&1 || useradd -m "$GRADER"
tail -n +2 "$ROSTER" | cut -d, -f1 | while read -r student; do
  [ -n "$student" ] && { id "$student" >/dev/null 2>&1 || useradd -m "$student"; }
done
install -d -m 755 "/srv/$COURSE"
install -m 640 -o root -g "$GRADER" "$ROSTER" "/srv/$COURSE/roster.csv"

# The hub; the students' JupyterLab (student wheels, no instructor extensions); the grader's (the repository).
python3 -m venv "$OPT/hub-env"
"$OPT/hub-env/bin/pip" install -q jupyterhub
python3 -m venv "$OPT/student-env"
"$OPT/student-env/bin/pip" install -q jupyterhub jupyterlab 'nbgrader>=0.9,<0.10' "$REPO"/dist/student/*.whl
install -D -m 644 "$HERE/student/jupyter_server_config.json" "$OPT/student-env/etc/jupyter/jupyter_server_config.json"
install -D -m 644 "$HERE/student/labconfig/page_config.json" "$OPT/student-env/etc/jupyter/labconfig/page_config.json"
[ -d "/home/$GRADER/course" ] || sudo -u "$GRADER" git clone -q "$REPO" "/home/$GRADER/course"
python3 -m venv "$OPT/grader-env"
"$OPT/grader-env/bin/pip" install -q jupyterhub -e "/home/$GRADER/course[dev]"

# The exchange and the machine-wide nbgrader config.
install -d -m 777 /srv/nbgrader/exchange
install -D -m 644 "$HERE/nbgrader_config.py" /etc/jupyter/nbgrader_config.py

echo "Now set the roster and due dates in /home/$GRADER/course/autograder/nbgrader_config.py, then start:"
echo "  cd /srv/$COURSE && COURSE_GRADER_TOKEN=\$(openssl rand -hex 32) COURSE_ROSTER=/srv/$COURSE/roster.csv \\"
echo "    COURSE_STAFF=instructor:ta1,ta2 $OPT/hub-env/bin/jupyterhub -f $HERE/jupyterhub_config.py"
