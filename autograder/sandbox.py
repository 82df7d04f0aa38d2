"""The sandbox a submission runs in: bubblewrap namespaces, resource limits, a scratch copy, capped output.

What runs inside (``start``): one process tree in its own user, pid, network, IPC and UTS namespaces
(``bwrap --unshare-all``), with no capabilities, as uid/gid 65534 inside. It sees a read-only view of the
system (``/usr``, ``/etc``, the Python installation and its virtual environment, the student edition of
the assignment, the sandbox-side programs in ``autograder/sandboxed/``) and one writable folder, the
scratch, which holds a copy of this one submission. The course root, the reference library, the check
specifications, ``solutions/``, the gradebook and every other submission are not in its mount namespace.
The network namespace has only its own loopback.

Limits: memory and process count through the cgroup v1 ``memory`` and ``pids`` controllers where they are
writable (the whole tree), and always per process through rlimits (address space, CPU seconds, file size,
no core files); wall clock from outside (``SandboxProcess.wait``). Killing the sandbox kills its pid
namespace's init, so the whole tree goes (``--die-with-parent`` too). stdout and stderr are read by the
caller at most ``output_bytes`` each (the rest is drained and dropped).

Without bubblewrap ``start`` refuses (``SandboxUnavailable``) unless ``unsafe=True``: then the same
command runs unconfined, with only the rlimits, and the grader says so.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
SANDBOX_UID = 65534  # nobody, inside the user namespace


class SandboxUnavailable(RuntimeError):
    """No sandbox can be made on this machine (and ``--unsafe`` was not given)."""


@dataclass(frozen=True)
class Limits:
    """What one submission may use. Sizes in bytes, times in seconds."""

    memory: int = 2 << 30
    processes: int = 256
    cpu_seconds: int = 1800
    wall_seconds: float = 1800.0
    cell_seconds: float = 600.0
    file_bytes: int = 64 << 20  # largest file it may write
    output_bytes: int = 1 << 20  # stdout / stderr of the tree, each, as read by the grader
    submission_bytes: int = 20 << 20  # the copied submission, all files together
    notebook_bytes: int = 16 << 20  # the executed notebook handed back


DEFAULT_LIMITS = Limits()


def bwrap() -> str | None:
    """The bubblewrap executable, or None."""
    return shutil.which("bwrap")


def unavailable_reason() -> str | None:
    """Why no sandbox can be made here (None: bubblewrap works)."""
    exe = bwrap()
    if exe is None:
        return "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
    probe = subprocess.run(
        [exe, "--unshare-all", "--die-with-parent", *_system_binds(), "--", "/bin/true"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    if probe.returncode != 0:
        return f"bubblewrap cannot create namespaces here: {probe.stderr.strip()[:200]}"
    return None


# ---- copying a submission ---------------------------------------------------------------------------


def copy_submission(src: Path, dst: Path, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """Copy the regular files of ``src`` into ``dst``; return notes on everything refused.

    Never follows a symlink (a link, a dangling link, a loop: each refused with a note); devices, FIFOs and
    sockets are refused; a file over ``limits.file_bytes`` or past ``limits.submission_bytes`` in all is
    refused. Checkpoints and caches are skipped silently. Opened with O_NOFOLLOW, so a link swapped in
    during the copy is refused too.
    """
    notes: list[str] = []
    total = 0
    dst.mkdir(parents=True, exist_ok=True)
    for root, dirs, files in os.walk(src, followlinks=False):
        rel_root = Path(root).relative_to(src)
        keep = []
        for d in sorted(dirs):
            if d in (".ipynb_checkpoints", "__pycache__"):
                continue
            if Path(root, d).is_symlink():
                notes.append(f"{rel_root / d}: a symbolic link, not copied")
                continue
            keep.append(d)
        dirs[:] = keep
        (dst / rel_root).mkdir(parents=True, exist_ok=True)
        for name in sorted(files):
            path, rel = Path(root, name), rel_root / name
            info = os.lstat(path)
            if stat.S_ISLNK(info.st_mode):
                notes.append(f"{rel}: a symbolic link, not copied")
            elif not stat.S_ISREG(info.st_mode):
                notes.append(f"{rel}: not a regular file, not copied")
            elif info.st_size > limits.file_bytes or total + info.st_size > limits.submission_bytes:
                notes.append(f"{rel}: too large ({info.st_size} bytes), not copied")
            else:
                try:
                    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
                except OSError as err:
                    notes.append(f"{rel}: unreadable ({err.strerror}), not copied")
                    continue
                with os.fdopen(fd, "rb") as f_in, open(dst / rel, "wb") as f_out:
                    shutil.copyfileobj(f_in, f_out)
                total += info.st_size
    return notes


def read_regular(path: Path, limit: int) -> bytes | None:
    """The first ``limit`` bytes of a regular file written by the sandbox (None: missing, a link, too big)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        data = f.read(limit + 1)
    return None if len(data) > limit else data


# ---- the command ------------------------------------------------------------------------------------


def _system_binds() -> list[str]:
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    for name in ("passwd", "group", "hosts", "nsswitch.conf", "ld.so.cache", "ld.so.conf", "localtime"):
        if (Path("/etc") / name).exists():
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    if Path("/etc/ld.so.conf.d").is_dir():
        args += ["--ro-bind", "/etc/ld.so.conf.d", "/etc/ld.so.conf.d"]
    if Path("/etc/ssl").is_dir():
        args += ["--ro-bind", "/etc/ssl", "/etc/ssl"]
    return [*args, "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]


def python_roots() -> list[Path]:
    """What the interpreter of this process needs: its installation and its virtual environment."""
    roots = {Path(sys.base_prefix).resolve(), Path(sys.prefix)}
    exe = Path(sys.executable)
    roots.add(exe.resolve().parent.parent)
    return sorted(r for r in roots if not str(r).startswith("/usr"))


def bwrap_command(argv: list[str], scratch: Path, readonly: list[Path], env: dict[str, str]) -> list[str]:
    exe = bwrap()
    assert exe is not None
    cmd = [exe, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL"]
    cmd += ["--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "sandbox"]
    cmd += _system_binds()
    for path in [*python_roots(), *readonly]:
        cmd += ["--ro-bind", str(path), str(path)]
    cmd += ["--bind", str(scratch), str(scratch), "--chdir", str(scratch), "--clearenv"]
    for key, value in sorted(env.items()):
        cmd += ["--setenv", key, value]
    return [*cmd, "--", *argv]


# ---- limits -----------------------------------------------------------------------------------------


class _Cgroup:
    """memory + pids cgroups (v1) for one sandbox, where this machine lets us make them."""

    def __init__(self, limits: Limits):
        self.paths: list[Path] = []
        name = f"course-grader-{uuid.uuid4().hex[:12]}"
        for controller, settings in (
            (
                "memory",
                {"memory.limit_in_bytes": limits.memory, "memory.memsw.limit_in_bytes": limits.memory},
            ),
            ("pids", {"pids.max": limits.processes}),
        ):
            base = CGROUP_ROOT / controller
            if not os.access(base, os.W_OK):
                continue
            path = base / name
            try:
                path.mkdir()
            except OSError:
                continue
            self.paths.append(path)
            for key, value in settings.items():
                with contextlib.suppress(OSError):
                    (path / key).write_text(str(value))

    def add(self, pid: int) -> None:
        for path in self.paths:
            with contextlib.suppress(OSError):
                (path / "cgroup.procs").write_text(str(pid))

    def oom_killed(self) -> bool:
        for path in self.paths:
            control = path / "memory.oom_control"
            if control.exists():
                with contextlib.suppress(OSError):
                    for line in control.read_text().splitlines():
                        if line.startswith("oom_kill ") and int(line.split()[1]) > 0:
                            return True
        return False

    def kill_all(self) -> None:
        for path in self.paths:
            with contextlib.suppress(OSError, ValueError):
                for pid in (path / "cgroup.procs").read_text().split():
                    with contextlib.suppress(ProcessLookupError, PermissionError):
                        os.kill(int(pid), signal.SIGKILL)

    def remove(self) -> None:
        for path in self.paths:
            for _ in range(50):
                try:
                    path.rmdir()
                    break
                except OSError:
                    self.kill_all()
                    time.sleep(0.02)


def _rlimits(limits: Limits):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.cpu_seconds, limits.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_FSIZE, (limits.file_bytes, limits.file_bytes))
        # address space: the memory limit plus what the interpreter and BLAS reserve without touching
        address = limits.memory + (1 << 30)
        resource.setrlimit(resource.RLIMIT_AS, (address, address))

    return apply


class _CappedReader(threading.Thread):
    """Reads a pipe to its end, keeping the first ``cap`` bytes."""

    def __init__(self, pipe, cap: int):
        super().__init__(daemon=True)
        self.pipe, self.cap = pipe, cap
        self.data = bytearray()
        self.dropped = 0

    def run(self) -> None:
        while chunk := self.pipe.read(65536):
            room = self.cap - len(self.data)
            self.data += chunk[: max(room, 0)]
            self.dropped += max(len(chunk) - max(room, 0), 0)


@dataclass
class Outcome:
    """How the sandboxed process ended."""

    returncode: int | None
    stdout: bytes
    stderr: bytes
    seconds: float
    timed_out: bool = False
    out_of_memory: bool = False
    dropped_bytes: int = 0


class SandboxProcess:
    """A running sandbox. ``wait`` enforces the wall clock; ``kill`` ends the whole tree."""

    def __init__(
        self,
        argv: list[str],
        *,
        scratch: Path,
        readonly: list[Path],
        env: dict[str, str],
        limits: Limits,
        unsafe: bool = False,
    ):
        self.limits = limits
        self.start_time = time.monotonic()
        self.cgroup = _Cgroup(limits) if not unsafe else None
        if unsafe:
            cmd, popen_env = argv, {**env, "PATH": env.get("PATH", "/usr/bin:/bin")}
        else:
            if bwrap() is None:
                raise SandboxUnavailable(unavailable_reason() or "no sandbox")
            cmd, popen_env = bwrap_command(argv, scratch, readonly, env), {"PATH": "/usr/bin:/bin"}
        self.proc = subprocess.Popen(
            cmd,
            cwd=scratch,
            env=popen_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            preexec_fn=_rlimits(limits),
            start_new_session=True,
        )
        if self.cgroup is not None:
            self.cgroup.add(self.proc.pid)
        self.out = _CappedReader(self.proc.stdout, limits.output_bytes)
        self.err = _CappedReader(self.proc.stderr, limits.output_bytes)
        self.out.start()
        self.err.start()
        self.timed_out = False

    def elapsed(self) -> float:
        return time.monotonic() - self.start_time

    def remaining(self) -> float:
        return max(self.limits.wall_seconds - self.elapsed(), 0.0)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)
        if self.cgroup is not None:
            self.cgroup.kill_all()

    def wait(self, timeout: float | None = None) -> Outcome:
        timeout = self.remaining() if timeout is None else min(timeout, self.remaining())
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.timed_out = True
        return self.finish()

    def finish(self) -> Outcome:
        """Kill whatever is left (the whole tree) and collect the outcome."""
        self.kill()
        rc = self.proc.wait()
        self.out.join(5)
        self.err.join(5)
        oom = False
        if self.cgroup is not None:
            oom = self.cgroup.oom_killed()
            self.cgroup.remove()
        return Outcome(
            None if self.timed_out else rc,
            bytes(self.out.data),
            bytes(self.err.data),
            self.elapsed(),
            timed_out=self.timed_out,
            out_of_memory=oom,
            dropped_bytes=self.out.dropped + self.err.dropped,
        )
