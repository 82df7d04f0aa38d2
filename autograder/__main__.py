"""Instructors' command line: ``python -m autograder <command>`` (run from the repository root).

build          solutions/<a>/<a>.ipynb from the text source <a>.py (regions filled, checked outputs stored),
               then the release notebooks/<a>/ (nbgrader); --check only verifies that both are up to date
sync           solutions/<a>/<a>.py from a solution notebook edited in JupyterLab (--update-library writes
               edited solutions into the library's graded regions)
release        notebooks/<assignment>/ from solutions/ (nbgrader), student-edition wheels in dist/student/aNN/
               and when each goes to students (one assignment at a time, after the previous deadline)
solutions      execute every source notebook; executed .ipynb and .html under out/solutions/
autograde DIR  grade DIR/<student>/<assignment>/ (nbgrader layout) in the sandbox, scored by the judge;
               results in autograder/work/ (--workers N, --scheduler ADDRESS: judge in parallel)
feedback       feedback HTML of the graded students under out/feedback/
export         grades CSV (out/grades.csv)
demo           the main job: releases, the generated sample class graded in its own course folder
               (autograder/work/demo); table, CSV and feedback in out/demo/
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from pathlib import Path

from autograder import pipeline, samples, settings, source


def _show(path: Path) -> str:
    """``path`` relative to the repository when it is inside it."""
    return str(path.relative_to(settings.ROOT)) if path.is_relative_to(settings.ROOT) else str(path)


def _assignments(names: list[str] | None) -> list[str]:
    available = settings.available_assignments()
    if not names:
        return available
    unknown = [n for n in names if n not in available]
    if unknown:
        raise SystemExit(f"unknown assignment(s) {unknown}; available: {available}")
    return names


def build(paths: pipeline.Paths, assignments: list[str], *, execute: bool, check: bool) -> int:
    """Text sources -> solution notebooks -> releases; with ``check``, report what is out of date."""
    if check:
        stale = pipeline.stale_builds(paths, assignments)
        for line in stale:
            print(line)
        return 1 if stale else 0
    for assignment in assignments:
        path = source.build(assignment, execute=execute, source_dir=paths.source)
        print(path.relative_to(settings.ROOT))
        print(pipeline.generate_release(assignment, paths).relative_to(settings.ROOT))
    return 0


def demo(
    paths: pipeline.Paths,
    assignments: list[str],
    cell_timeout: int,
    timeout: float,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    unsafe: bool = False,
) -> int:
    """Build releases, grade the sample class of every assignment, print and write the grades and feedback."""
    start = time.monotonic()
    if paths.work.exists():
        shutil.rmtree(paths.work)  # a demo always starts from an empty gradebook
    class_dir = paths.work / "sample_class"
    for assignment in assignments:
        release_nb = pipeline.generate_release(assignment, paths)
        pipeline.build_edition(assignment, paths)
        notebooks = samples.sample_class(release_nb, paths.source / assignment / f"{assignment}.ipynb")
        samples.write_submissions(class_dir, assignment, notebooks)
        students = ", ".join(notebooks)
        print(f"released {assignment}: {_show(release_nb)}; sample class: {students}")
    rows = pipeline.autograde(
        class_dir,
        paths,
        assignments=assignments,
        cell_timeout=cell_timeout,
        submission_timeout=timeout,
        workers=workers,
        scheduler=scheduler,
        unsafe=unsafe,
    )
    print()
    print(pipeline.grade_table(rows))
    csv_path = pipeline.export(paths, rows)
    made = pipeline.feedback(paths, rows)
    print(
        f"\ngrades: {_show(csv_path)}; feedback: {len(made)} files under "
        f"{_show(paths.out / 'feedback')}; {time.monotonic() - start:.0f} s"
    )
    return 0


def _parallel_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, default=1, help="notebooks judged in parallel on this machine")
    p.add_argument("--scheduler", default=None, help="a Dask scheduler address: judge on its workers")
    p.add_argument(
        "--unsafe",
        action="store_true",
        help="grade even where no sandbox can be made (the code runs unconfined)",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("release", "solutions"):
        p = sub.add_parser(name)
        p.add_argument("assignments", nargs="*")
    p = sub.add_parser("build")
    p.add_argument("assignments", nargs="*")
    p.add_argument("--no-execute", action="store_true", help="keep the stored outputs instead of re-running")
    p.add_argument("--check", action="store_true", help="only report notebooks that differ from a build")
    p = sub.add_parser("sync")
    p.add_argument("assignments", nargs="+")
    p.add_argument("--update-library", action="store_true")
    p = sub.add_parser("autograde")
    p.add_argument(
        "submitted", type=Path, help="a folder laid out as <student>/<assignment>/<notebook>.ipynb"
    )
    p.add_argument("--assignment", action="append", dest="assignments")
    p.add_argument("--cell-timeout", type=int, default=settings.CELL_TIMEOUT_S)
    p.add_argument(
        "--timeout", type=float, default=settings.SUBMISSION_TIMEOUT_S, help="per submission, seconds"
    )
    _parallel_options(p)
    sub.add_parser("feedback")
    p = sub.add_parser("export")
    p.add_argument("--output", type=Path, default=None)
    p = sub.add_parser("demo")
    p.add_argument("assignments", nargs="*")
    p.add_argument(
        "--work", type=Path, default=settings.WORK_DIR / "demo", help="the demo's own course folder"
    )
    p.add_argument(
        "--out", type=Path, default=settings.OUT_DIR / "demo", help="grades CSV and feedback go here"
    )
    p.add_argument("--cell-timeout", type=int, default=settings.CELL_TIMEOUT_S)
    p.add_argument("--timeout", type=float, default=settings.SUBMISSION_TIMEOUT_S)
    _parallel_options(p)
    args = parser.parse_args(argv)

    paths = pipeline.Paths()
    if args.command == "build":
        return build(paths, _assignments(args.assignments), execute=not args.no_execute, check=args.check)
    if args.command == "sync":
        for assignment in _assignments(args.assignments):
            changed = source.sync(assignment, update_library=args.update_library)
            print(f"{source.source_path(assignment).relative_to(settings.ROOT)}", *changed)
        return 0
    if args.command == "release":
        releases = pipeline.release(paths, _assignments(args.assignments))
        for r in releases:
            print(f"{r.assignment}: {_show(r.notebook)} and {_show(r.wheel)}")
        print()
        print(pipeline.release_schedule(releases))
    elif args.command == "solutions":
        for path in pipeline.solutions(paths, _assignments(args.assignments)):
            print(path.relative_to(settings.ROOT))
    elif args.command == "autograde":
        rows = pipeline.autograde(
            args.submitted,
            paths,
            assignments=args.assignments,
            cell_timeout=args.cell_timeout,
            submission_timeout=args.timeout,
            workers=args.workers,
            scheduler=args.scheduler,
            unsafe=args.unsafe,
        )
        print(pipeline.grade_table(rows))
    elif args.command == "feedback":
        for path in pipeline.feedback(paths):
            print(path.relative_to(settings.ROOT))
    elif args.command == "export":
        print(pipeline.export(paths, dest=args.output))
    elif args.command == "demo":
        demo_paths = pipeline.Paths(
            work=args.work.resolve(), out=args.out.resolve(), release=args.out.resolve() / "release"
        )
        return demo(
            demo_paths,
            _assignments(args.assignments),
            args.cell_timeout,
            args.timeout,
            workers=args.workers,
            scheduler=args.scheduler,
            unsafe=args.unsafe,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
