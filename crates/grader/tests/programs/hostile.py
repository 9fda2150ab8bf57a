"""Programs that attack the grader's sandbox, for tests/containment.rs.

    python3 hostile.py ATTACK [ARGS...]

Each attack prints what it achieved, so that a test can tell an attack that
was contained from one that never ran. None of them listens: the grader's
first check fails, and the report shows the output.
"""

import ctypes
import os
import signal
import socket
import sys
import time


def fork_chain(seconds):
    """Forks and exits over and over: each child leaves its session and its
    parent exits at once, so that the live pid always changes. The first
    process stays a moment, then exits."""
    if os.fork() == 0:
        generation = 0
        deadline = time.time() + float(seconds)
        while time.time() < deadline:
            if os.fork():
                os._exit(0)
            os.setsid()
            generation += 1
            if generation % 200 == 0:
                print(f"generation {generation}", flush=True)
        os._exit(0)
    time.sleep(1.5)
    print("the first process exits", flush=True)
    sys.exit(1)


def classmate(victim_file, seconds):
    """Kills, traces and rewrites whatever it can reach, for a while."""
    libc = ctypes.CDLL(None, use_errno=True)
    me = os.getpid()
    seen, killed, traced = set(), 0, 0
    deadline = time.time() + float(seconds)
    while time.time() < deadline:
        for name in os.listdir("/proc"):
            if not name.isdigit() or int(name) in (me, 1):
                continue
            pid = int(name)
            seen.add(pid)
            try:
                os.kill(pid, signal.SIGKILL)
                killed += 1
            except OSError:
                pass
            if libc.ptrace(16, pid, 0, 0) == 0:  # PTRACE_ATTACH
                traced += 1
                libc.ptrace(17, pid, 0, 0)  # PTRACE_DETACH
        try:
            os.kill(-1, signal.SIGKILL)  # all it may signal, but itself
        except OSError:
            pass
        time.sleep(0.05)
    try:
        with open(victim_file, "a") as f:
            f.write("# rewritten by a classmate\n")
        wrote = "yes"
    except OSError as err:
        wrote = f"no ({err.strerror})"
    print(f"uid {os.getuid()}: saw {len(seen)} processes, killed {killed}, "
          f"traced {traced}, rewrote the classmate's file: {wrote}", flush=True)
    sys.exit(1)


def fill_disk():
    """Writes into /tmp until the disk says no."""
    chunk = b"x" * (1 << 20)
    written = 0
    try:
        with open("/tmp/big", "wb") as f:
            while written < 4096:
                f.write(chunk)
                f.flush()
                written += 1
        error = "none"
    except OSError as err:
        error = err.strerror
    print(f"wrote {written} MiB into /tmp: error {error}", flush=True)
    sys.exit(1)


def memory_children(count, mib):
    """Starts `count` children that each hold `mib` MiB, then counts how
    many are still alive."""
    children = []
    for i in range(int(count)):
        pid = os.fork()
        if pid == 0:
            block = b"\x01" * (int(mib) << 20)
            print(f"child {i} holds {len(block) >> 20} MiB", flush=True)
            time.sleep(30)
            os._exit(0)
        children.append(pid)
        time.sleep(0.3)
    time.sleep(2)
    alive = sum(1 for pid in children if os.waitpid(pid, os.WNOHANG) == (0, 0))
    print(f"alive: {alive} of {count}", flush=True)
    sys.exit(1)


def environment():
    """Prints its environment, one line."""
    print("environment: " + " ".join(f"{k}={v}" for k, v in sorted(os.environ.items())),
          flush=True)
    sys.exit(1)


def reach(port):
    """Connects to a port on the machine's loopback, outside its own."""
    try:
        socket.create_connection(("127.0.0.1", int(port)), timeout=3).close()
        print("reached the machine's port", flush=True)
    except OSError as err:
        print(f"could not reach the machine's port: {err.strerror}", flush=True)
    sys.exit(1)


def write(path):
    """Appends to a file outside its work space, then tries to end the
    grader itself."""
    try:
        with open(path, "a") as f:
            f.write("appended by a student\n")
        print("appended to the file", flush=True)
    except OSError as err:
        print(f"could not append: {err.strerror}", flush=True)
    try:
        os.kill(os.getppid(), signal.SIGKILL)
        os.kill(-1, signal.SIGKILL)
    except OSError:
        pass
    sys.exit(1)


def shm(size):
    """Makes a System V shared-memory segment of SIZE bytes and leaves it
    behind."""
    libc = ctypes.CDLL(None, use_errno=True)
    shmid = libc.shmget(0, int(size), 0o1666)  # IPC_PRIVATE, IPC_CREAT | 0666
    print(f"shared-memory segment {shmid} of {size} bytes", flush=True)
    sys.exit(1)


def unix(*paths):
    """Connects to Unix-domain sockets of the machine's."""
    for path in paths:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            print(f"connected to {path}", flush=True)
        except OSError as err:
            print(f"could not connect to {path}: {err.strerror}", flush=True)
        finally:
            s.close()
    sys.exit(1)


def forge_setup_error():
    """Prints what Python prints when it cannot open the program's file, and
    exits as it does, to be "not graded" rather than failed."""
    print("python3: can't open file '/tmp/work/hostile.py': [Errno 2] No such file or directory",
          file=sys.stderr, flush=True)
    sys.exit(2)


if __name__ == "__main__":
    attack, *args = sys.argv[1:]
    {
        "fork-chain": fork_chain,
        "classmate": classmate,
        "fill-disk": fill_disk,
        "memory-children": memory_children,
        "environment": environment,
        "reach": reach,
        "write": write,
        "shm": shm,
        "unix": unix,
        "forge-setup-error": forge_setup_error,
    }[attack](*args)
