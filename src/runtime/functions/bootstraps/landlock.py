"""Starts a function's runtime inside a Landlock domain, or says whether Landlock is there.

    python3 -I -S landlock.py --probe
    python3 -I -S landlock.py [--ro PATH]... [--rw PATH]... -- PROGRAM ARG... < environment

--probe prints one JSON line: the Landlock ABI the kernel offers (0 when it
offers none, with the reason) and where this Python lives, so Kennel can run
Python functions on the interpreter itself rather than through a shim.

Otherwise it merges stderr into stdout (the log is one stream, in the order it
was written), asks to be killed with Kennel, restricts the filesystem to the
paths given (--ro: read and execute; --rw: everything but creating device
nodes) and execs PROGRAM, which keeps the restriction, as does everything it
starts. Signals and abstract Unix sockets are scoped to the domain where the
kernel can (ABI 6), so a function cannot signal Kennel or reach its sockets.
Network access is not restricted.

Nothing of the function's runs before the domain is in place: this script runs
with -I -S and an empty environment (no PYTHONPATH, LD_PRELOAD or
LD_LIBRARY_PATH of the function's can reach it) and reads the environment
PROGRAM gets from stdin (NAME=value entries, each ended by a NUL byte, as in
/proc/<pid>/environ), which then becomes /dev/null. It imports no more than
it must (no json on this path): each millisecond here is one of every cold
start's.
"""

import ctypes
import os
import signal
import sys

SYS_LANDLOCK_CREATE_RULESET = 444
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1
PR_SET_PDEATHSIG = 1
PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
MAKE_CHAR, MAKE_BLOCK = 1 << 6, 1 << 11
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV
SCOPE_ABSTRACT_UNIX_SOCKET, SCOPE_SIGNAL = 1 << 0, 1 << 1

libc = ctypes.CDLL(None, use_errno=True)


class RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]


class PathBeneathAttr(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def syscall(number, *args):
    result = libc.syscall(ctypes.c_long(number), *args)
    if result < 0:
        errno = ctypes.get_errno()
        raise OSError(errno, os.strerror(errno))
    return result


def abi_version():
    return syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_long(0), ctypes.c_long(LANDLOCK_CREATE_RULESET_VERSION))


def handled_rights(abi):
    rights = (1 << 13) - 1
    if abi >= 2:
        rights |= REFER
    if abi >= 3:
        rights |= TRUNCATE
    if abi >= 5:
        rights |= IOCTL_DEV
    return rights


def probe():
    import json

    report = {"executable": os.path.realpath(sys.executable), "prefix": sys.prefix, "basePrefix": sys.base_prefix, "version": sys.version.split()[0]}
    try:
        report["abi"] = abi_version()
    except OSError as error:
        report["abi"] = 0
        report["reason"] = error.strerror
    print(json.dumps(report))


def parse(argv):
    rules, index = [], 0
    while index < len(argv) and argv[index] != "--":
        if argv[index] not in ("--ro", "--rw") or index + 1 >= len(argv):
            raise SystemExit("landlock.py: expected --ro PATH, --rw PATH or -- PROGRAM, not " + argv[index])
        rules.append((argv[index] == "--rw", argv[index + 1]))
        index += 2
    program = argv[index + 1 :]
    if not program:
        raise SystemExit("landlock.py: no program after --")
    return rules, program


def restrict(rules):
    abi = abi_version()
    handled = handled_rights(abi)
    attr = RulesetAttr(handled, 0, SCOPE_ABSTRACT_UNIX_SOCKET | SCOPE_SIGNAL if abi >= 6 else 0)
    size = 24 if abi >= 6 else 16 if abi >= 4 else 8
    ruleset = syscall(SYS_LANDLOCK_CREATE_RULESET, ctypes.byref(attr), ctypes.c_long(size), ctypes.c_long(0))
    read_only = EXECUTE | READ_FILE | READ_DIR
    read_write = handled & ~(MAKE_CHAR | MAKE_BLOCK)
    for writable, path in rules:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except FileNotFoundError:
            continue
        try:
            access = read_write if writable else read_only
            if not os.path.isdir(path):
                access &= FILE_RIGHTS
            rule = PathBeneathAttr(access & handled, fd)
            syscall(SYS_LANDLOCK_ADD_RULE, ctypes.c_long(ruleset), ctypes.c_long(LANDLOCK_RULE_PATH_BENEATH), ctypes.byref(rule), ctypes.c_long(0))
        finally:
            os.close(fd)
    if libc.prctl(ctypes.c_int(PR_SET_NO_NEW_PRIVS), ctypes.c_ulong(1), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0)) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    syscall(SYS_LANDLOCK_RESTRICT_SELF, ctypes.c_long(ruleset), ctypes.c_long(0))
    os.close(ruleset)


def main():
    if sys.argv[1:] == ["--probe"]:
        return probe()
    rules, program = parse(sys.argv[1:])
    environment = dict(entry.split(b"=", 1) for entry in sys.stdin.buffer.read().split(b"\0") if entry)
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(1, 2)
    libc.prctl(ctypes.c_int(PR_SET_PDEATHSIG), ctypes.c_ulong(signal.SIGKILL), ctypes.c_ulong(0), ctypes.c_ulong(0), ctypes.c_ulong(0))
    if os.getppid() == 1:
        raise SystemExit("landlock.py: Kennel exited before the function started")
    try:
        restrict(rules)
    except OSError as error:
        raise SystemExit("landlock.py: cannot restrict the function's filesystem: " + str(error))
    os.execve(program[0], program, environment)


main()
