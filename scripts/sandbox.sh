# Sourced by run.sh and test.sh: the grader runs each submission in a bubblewrap sandbox and refuses to
# grade without one. Install it where this script may (root with apt-get); otherwise say how.
if ! command -v bwrap >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get install -y -q --no-install-recommends bubblewrap >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null && apt-get install -y -q --no-install-recommends bubblewrap >/dev/null; }
  else
    echo "note: bubblewrap (bwrap) is not installed; the grader will refuse to grade." >&2
    echo "      Install it (Debian/Ubuntu: sudo apt-get install bubblewrap)." >&2
  fi
fi
