"""A Python audit hook that keeps a function to its folders where the kernel has no Landlock.

It refuses opening files outside the readable folders, writing outside the
writable ones, and starting processes (a child would not carry the hook).
Refusals are PermissionError, as Landlock's are. It is a fallback, not a
boundary: code in C (ctypes, extension modules) does not pass through it.
"""

import errno
import os
import sys

READ_EVENTS = {"open", "os.listdir", "os.scandir"}
WRITE_EVENTS = {"os.remove", "os.rename", "os.replace", "os.mkdir", "os.rmdir", "os.symlink", "os.link", "os.chmod", "os.chown", "os.truncate", "os.utime"}
TWO_PATH_EVENTS = {"os.rename", "os.replace", "os.symlink", "os.link"}
SPAWN_EVENTS = {"subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork", "os.forkpty", "pty.spawn"}
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND


def install(policy):
    readable = tuple(os.path.realpath(path) for path in policy["read"] + policy["write"])
    writable = tuple(os.path.realpath(path) for path in policy["write"])
    realpath, fspath, isinstance_, str_ = os.path.realpath, os.fsdecode, isinstance, str

    def within(path, roots):
        real = realpath(fspath(path))
        return any(real == root or real.startswith(root.rstrip("/") + "/") for root in roots)

    def refuse(path):
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), str_(path))

    def hook(event, args):
        if event in SPAWN_EVENTS:
            raise PermissionError(errno.EPERM, "starting processes is not allowed in this function's sandbox")
        if event in READ_EVENTS:
            path = args[0] if args else None
            if path is None or isinstance_(path, int):
                return
            mode = args[1] if event == "open" and len(args) > 1 else None
            flags = args[2] if event == "open" and len(args) > 2 else 0
            writing = bool(isinstance_(flags, int) and flags & WRITE_FLAGS) or bool(isinstance_(mode, str_) and any(c in mode for c in "wax+"))
            if not within(path, writable if writing else readable):
                refuse(path)
        elif event in WRITE_EVENTS:
            # os.rename and friends name two paths; the rest one, then other arguments.
            for path in args[:2] if event in TWO_PATH_EVENTS else args[:1]:
                if isinstance_(path, (str_, bytes)) and not within(path, writable):
                    refuse(path)

    sys.addaudithook(hook)
