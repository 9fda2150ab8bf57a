"""Runs a program where a grader that watches only the process it started
(its PID namespace, its process group) would not see it:

    python3 hide.py namespace -- CMD...   CMD in a new user and PID namespace
    python3 hide.py session -- CMD...     CMD in a new session, orphaned

What CMD does (threads, CPU, memory) must still count as the student's.
Used by selfcheck.rs with evloop.py's faults."""
import ctypes
import os
import signal
import sys

HOW = sys.argv[1]
CMD = sys.argv[sys.argv.index("--") + 1:]
CLONE_NEWUSER, CLONE_NEWPID = 0x10000000, 0x20000000

if HOW == "namespace":
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWUSER | CLONE_NEWPID) != 0:
        sys.exit(f"hide.py: unshare failed: errno {ctypes.get_errno()}")
    # The first child is the new namespace's init.
    pid = os.fork()
    if pid == 0:
        os.execvp(CMD[0], CMD)
    _, status = os.waitpid(pid, 0)
    sys.exit(os.waitstatus_to_exitcode(status))
elif HOW == "session":
    pid = os.fork()
    if pid == 0:
        os.setsid()
        if os.fork() == 0:
            os.execvp(CMD[0], CMD)
        os._exit(0)  # The program is an orphan now, in a session of its own.
    os.waitpid(pid, 0)
    # Stay, as a program would, until the grader stops it.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.pause()
else:
    sys.exit(f"hide.py: unknown way {HOW!r}")
