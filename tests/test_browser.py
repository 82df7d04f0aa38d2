"""A real browser drives JupyterLab on 127.0.0.1: a student working on a release, and a TA's formgrader.

Headless Chromium (the system's, Debian package ``chromium``) through Playwright. The student's JupyterLab
runs with the student install's config (examples/jupyterhub/student/: the formgrader server extension off,
the formgrader and create-assignment plugins disabled and locked) and the a01 student edition as ``course``
on the kernel's path, in a folder holding a copy of notebooks/a01_linear_models/. The student sees the
stub's message, writes ``linear_features``, runs its visible test and sees it pass, breaks it and sees the
hint, puts it right, saves and runs "check my work" (the notebook's last cell). Meanwhile a class of two
is graded with the pipeline; the TA's JupyterLab (nbgrader's default extensions) must offer the formgrader
and list that class with the scores the pipeline reported. Screenshots go to out/browser/ (CI artifacts).

Marked ``browser``; skipped, with the reason, where Chromium or Playwright is missing (.ci/run installs
both). About 1.5 to 3 minutes, every wait bounded.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from autograder import editions, pipeline, samples, settings

try:
    from playwright.sync_api import expect, sync_playwright
except ImportError:  # the dev extra brings it; the browser itself comes from the system
    sync_playwright = None

A01 = "a01_linear_models"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")
SHOTS = settings.OUT_DIR / "browser"
STUDENT_CONFIG = settings.ROOT / "examples" / "jupyterhub" / "student"
SERVER_START_S = 90
WAIT_MS = 90_000  # one step in the page (a cell, a check run of the whole notebook takes longer)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.a01,
    pytest.mark.skipif(sync_playwright is None, reason="Python package playwright is missing (dev extra)"),
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no Chromium: apt-get install chromium chromium-driver (or set CHROMIUM_PATH)",
    ),
]

RIGHT = "def linear_features(x):\n    return np.stack([np.ones_like(x), x], axis=1)  # (N, 2)\n"
WRONG = "def linear_features(x):\n    return np.stack([np.zeros_like(x), x], axis=1)  # (N, 2)\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env(home: Path, config: Path) -> dict[str, str]:
    """An environment of its own: HOME, Jupyter config and runtime folders, nothing of the caller's."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER", "PYTHONPATH", "MPLBACKEND"))}
    env.update(
        HOME=str(home),
        JUPYTER_CONFIG_DIR=str(config),
        JUPYTER_RUNTIME_DIR=str(home / "runtime"),
        IPYTHONDIR=str(home / "ipython"),
        PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        OPENBLAS_NUM_THREADS="1",
    )
    return env


@contextmanager
def jupyter_lab(root: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """JupyterLab serving ``root`` on 127.0.0.1 (started in ``root``, where nbgrader looks for its config);
    yields the base URL with its token; the server and its kernels are stopped at the end."""
    port, token = _free_port(), secrets.token_hex(16)
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "jupyter",
                "lab",
                "--no-browser",
                "--allow-root",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={token}",
                f"--ServerApp.root_dir={root}",
            ],
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_S
        while True:
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"JupyterLab did not start:\n{log.read_text()[-3000:]}") from None
                time.sleep(0.5)
        yield f"{url}?token={token}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _status(url: str, path: str) -> int:
    base, query = url.split("?")
    try:
        with urllib.request.urlopen(f"{base}{path}?{query}", timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as err:
        return err.code


def _grade_class(base: Path) -> tuple[pipeline.Paths, list[pipeline.GradeRow]]:
    """A class of two on a roster (complete, first half of the answers), graded by the CLI's pipeline."""
    source = base / "solutions"
    shutil.copytree(settings.SOURCE_DIR / A01, source / A01)
    paths = pipeline.Paths(
        work=base / "work", out=base / "out", release=base / "release", dist=base / "dist", source=source
    )
    release = pipeline.generate_release(A01, paths)
    students = samples.sample_class(release, source / A01 / f"{A01}.ipynb")
    submitted = base / "submitted"
    samples.write_submissions(submitted, A01, {k: students[k] for k in ("ada_complete", "ben_partial")})
    roster = base / "roster.csv"
    roster.write_text("id,first_name,last_name\nada_complete,Ada,Lovelace\nben_partial,Ben,Okafor\n")
    rows = pipeline.autograde(
        submitted,
        paths,
        cell_timeout=60,
        submission_timeout=300,
        release_first=False,
        nbgrader_args=[f"--ApplyRosterAndDueDates.roster={roster}"],
        log=lambda s: None,
    )
    return paths, rows


def _ta_course(folder: Path, paths: pipeline.Paths) -> Path:
    """The TA's course folder: its nbgrader_config.py loads the course's and points at the graded class."""
    folder.mkdir(parents=True)
    dirs = {
        "root": folder,
        "source_directory": paths.source,
        "release_directory": paths.release,
        "submitted_directory": paths.submitted,
        "autograded_directory": paths.autograded,
        "feedback_directory": paths.feedback,
    }
    lines = ["c = get_config()", f"load_subconfig({str(settings.ROOT / 'nbgrader_config.py')!r})"]
    lines += [f"c.CourseDirectory.{key} = {str(value)!r}" for key, value in dirs.items()]
    lines.append(f"c.CourseDirectory.db_url = {f'sqlite:///{paths.db}'!r}")
    (folder / "nbgrader_config.py").write_text("\n".join(lines) + "\n")
    return folder


def _student_setup(base: Path) -> tuple[Path, dict[str, str], bool]:
    """The student's folder (a copy of the release), environment (student config, a01 edition) and whether
    the edition has "check my work"."""
    work, home, config = base / "work", base / "home", base / "config"
    work.mkdir(parents=True)
    shutil.copy(settings.RELEASE_DIR / A01 / f"{A01}.ipynb", work)
    edition = editions.build_student_edition(A01, base / "edition")
    shutil.copytree(STUDENT_CONFIG, config)
    # Test-only JupyterLab settings: every cell in the page (no windowed rendering), no news pop-up.
    user = config / "lab" / "user-settings" / "@jupyterlab"
    (user / "notebook-extension").mkdir(parents=True)
    (user / "notebook-extension" / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    (user / "apputils-extension").mkdir(parents=True)
    (user / "apputils-extension" / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
    env = _clean_env(home, config)
    env["PYTHONPATH"] = str(edition.parent)
    return work, env, (edition / "check.py").is_file()


def _nbgrader_menu(page) -> list[str]:
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").click()
    items = [t.strip() for t in page.locator(".lm-Menu-itemLabel").all_text_contents() if t.strip()]
    page.keyboard.press("Escape")
    return items


def _shot(page, name: str, bottom=None) -> None:
    """A screenshot of the page, scrolled so that ``bottom`` (an output, say) ends at its bottom edge."""
    if bottom is not None:
        bottom.evaluate("element => element.scrollIntoView({block: 'end'})")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"))


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM)
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory) -> Iterator[Future]:
    """Graded in a thread while the student works (both are mostly waiting on subprocesses)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(_grade_class, tmp_path_factory.mktemp("class"))


@pytest.fixture(scope="module")
def student(tmp_path_factory, graded_class):
    base = tmp_path_factory.mktemp("student")
    work, env, has_check = _student_setup(base)
    with jupyter_lab(work, env, base / "lab.log") as url:
        yield url, work, has_check


def test_student_lab_has_no_formgrader_and_no_create_assignment(browser, student):
    url, _, _ = student
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url.replace("?", "/lab?"))
    page.wait_for_selector(".lm-MenuBar-item", timeout=WAIT_MS)
    config = json.loads(page.locator("#jupyter-config-data").text_content())
    for plugin in ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"):
        assert plugin in config["disabledExtensions"] and plugin in config["lockedExtensions"], plugin
    menu = _nbgrader_menu(page)
    assert "Assignment List" in menu, menu  # what students use stays
    assert "Formgrader" not in menu and "Create assignment" not in menu, menu
    tabs = page.locator(".lm-TabBar-tab").evaluate_all("tabs => tabs.map(t => t.title)")
    assert not any("Create Assignment" in t for t in tabs), tabs
    page.locator(".lm-MenuBar-item", has_text="Nbgrader").click()
    _shot(page, "01_student_nbgrader_menu")
    page.keyboard.press("Escape")
    assert _status(url, "/formgrader") == 404  # the server extension is off too
    page.close()


def test_student_sees_the_stub_passes_the_visible_test_sees_the_hint_and_checks_the_work(browser, student):
    url, work, has_check = student
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url.replace("?", f"/lab/tree/{A01}.ipynb?"))
    cells = page.locator(".jp-Notebook .jp-Cell")
    expect(cells.nth(5)).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#jp-main-statusbar")).to_contain_text("| Idle", timeout=WAIT_MS)
    answer, visible = 3, 4  # the first exercise, linear_features, and its visible test
    stub = cells.nth(answer).locator(".cm-content").inner_text()
    assert "raise NotImplementedError" in stub, stub
    message = re.search(r'NotImplementedError\("([^"]+)"\)', stub)  # the release's own words, if any
    output = cells.nth(visible).locator(".jp-OutputArea")

    def run(index: int) -> None:
        cells.nth(index).locator(".jp-InputPrompt").click()  # select the cell (command mode)
        page.keyboard.press("Control+Enter")

    def write(index: int, text: str) -> None:
        cells.nth(index).locator(".cm-content").click()
        page.keyboard.press("Control+A")
        page.keyboard.insert_text(text)
        page.keyboard.press("Escape")

    for index in (1, answer, visible):  # set-up, the released stub, its test
        run(index)
    expect(output).to_contain_text("NotImplementedError", timeout=WAIT_MS)
    if message:
        expect(output).to_contain_text(message[1])
    _shot(page, "02_stub_message", bottom=output)

    write(answer, RIGHT)
    run(answer)
    run(visible)
    expect(output).to_contain_text("ok: column 1 of linear_features(x) matches", timeout=WAIT_MS)
    expect(output).not_to_contain_text("Error")
    _shot(page, "03_visible_test_passes", bottom=output)

    write(answer, WRONG)
    run(answer)
    run(visible)
    expect(output).to_contain_text(
        "Hint: the first feature is the constant 1 for every input", timeout=WAIT_MS
    )
    _shot(page, "04_hint_after_breaking_it", bottom=output)

    write(answer, RIGHT)
    run(answer)
    page.keyboard.press("Control+s")
    saved = work / f"{A01}.ipynb"
    deadline = time.monotonic() + 30
    while "np.ones_like(x), x" not in saved.read_text():
        assert time.monotonic() < deadline, "the notebook was not saved"
        time.sleep(0.3)

    if not has_check:
        pytest.skip("the a01 student edition has no course/check.py yet: 'check my work' not exercised")
    last = cells.last
    assert "check_my_work(" in last.locator(".cm-content").inner_text()
    last.locator(".jp-InputPrompt").click()
    page.keyboard.press("Control+Enter")
    report = last.locator(".jp-OutputArea")
    expect(report).to_contain_text("Done in", timeout=3 * WAIT_MS)
    expect(report).to_contain_text("linear_features", timeout=WAIT_MS)
    lines = report.inner_text().splitlines()
    assert any("linear_features" in ln and "passed" in ln for ln in lines), lines
    assert any("polynomial_features" in ln and "not written" in ln for ln in lines), lines
    last.scroll_into_view_if_needed()
    _shot(page, "05_check_my_work")
    page.close()


def test_ta_formgrader_lists_the_graded_class_with_the_pipeline_scores(browser, graded_class, tmp_path):
    paths, rows = graded_class.result(timeout=600)
    assert [r.status for r in rows] == ["graded", "graded"], rows
    course = _ta_course(tmp_path / "course", paths)
    with jupyter_lab(course, _clean_env(tmp_path / "home", tmp_path / "config"), tmp_path / "lab.log") as url:
        page = browser.new_page(viewport={"width": 1300, "height": 800})
        page.goto(url.replace("?", "/lab?"))
        page.wait_for_selector(".lm-MenuBar-item", timeout=WAIT_MS)
        menu = _nbgrader_menu(page)
        assert "Formgrader" in menu and "Create assignment" in menu, menu  # a TA's lab has them
        page.goto(url.replace("?", "/formgrader/manage_students?"))
        table = page.locator("#main-table")
        for row, name in zip(rows, ("Lovelace, Ada", "Okafor, Ben")):
            line = table.locator("tr", has=page.locator("td.id", has_text=row.student))
            score = f"{row.score:g} / {row.max_score:g}"
            expect(line.locator("td.score")).to_have_text(score, timeout=WAIT_MS)
            expect(line.locator("td.name")).to_have_text(name)  # from the roster
        assert table.locator("tr").count() == len(rows)
        _shot(page, "06_ta_formgrader_students")
        page.close()


def test_feedback_page_renders_its_maths_offline_and_requests_nothing(browser, graded_class):
    paths, rows = graded_class.result(timeout=600)
    pages = {p.stem: p for p in pipeline.feedback(paths, rows)}
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    requested = []

    def offline(route) -> None:  # the page may read its own file, nothing else
        if route.request.url.startswith("file:"):
            route.continue_()
        else:
            requested.append(route.request.url)
            route.abort()

    page.route("**/*", offline)
    page.goto(pages["ben_partial"].as_uri())
    expect(page.locator("table.exercises")).to_contain_text("not answered yet")
    sizes = page.locator("math").evaluate_all("ms => ms.map(m => m.getBoundingClientRect().width)")
    assert len(sizes) > 50 and min(sizes) > 0, "every formula is laid out (MathML, no script needed)"
    assert page.evaluate("typeof window.MathJax") == "undefined"
    assert requested == [], requested
    _shot(page, "07_feedback_offline")
    page.locator('math[display="block"]').nth(2).evaluate("m => m.scrollIntoView({block: 'center'})")
    _shot(page, "08_feedback_maths")
    page.close()
