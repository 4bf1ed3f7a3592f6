#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""subreaper.py [--then SHELL_CMD] [--fds N] -- CMD [ARG]...

Runs CMD the way a runtime runs a plugin or a hook (stdin passed on, stdout and stderr read
to EOF, the exit status waited for) as a child subreaper (PR_SET_CHILD_SUBREAPER), so that
any process CMD leaves behind is reparented to this script. CMD's exit is awaited first
(waitid WNOWAIT, its output staying in the pipe); "stdout_open_after_exit" tells whether
something else still held CMD's stdout at that instant (a runtime reading to EOF would
wait for it). --fds N: CMD starts with descriptors 3..N-1 open on /dev/null and a copy
of its stdout at N (as a runtime may leave them), so that whatever CMD hands its
descriptors to has many to get through before the copy. Then: runs SHELL_CMD (to look at the state CMD left), reaps every orphan
for up to 5 s. Prints one JSON object:
  {"rc": N, "stdout": "...", "stderr": "...", "then": "...", "stdout_open_after_exit": bool,
   "orphans": [{"pid": P, "signal": S|null, "exit": E|null}], "unreaped": bool}
"""
import ctypes
import json
import os
import resource
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main(argv):
    then, fds = None, 0
    while argv[:1] in (["--then"], ["--fds"]):
        if argv[0] == "--then":
            then = argv[1]
        else:
            fds = int(argv[1])
        argv = argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("subreaper.py: prctl failed", file=sys.stderr)
        return 2
    def hold_fds():
        if fds:
            soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
            if soft <= fds:
                resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, fds + 64), hard))
            os.closerange(3, fds + 1)
            while True:
                fd = os.open(os.devnull, os.O_RDONLY)
                os.set_inheritable(fd, True)
                if fd >= fds - 1:
                    break
            os.dup2(1, fds, inheritable=True)

    p = subprocess.Popen(argv, stdin=sys.stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         preexec_fn=hold_fds, close_fds=False)
    # Exit first, the output left in the pipes (a plugin's is far below a pipe's 64 KiB).
    os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
    os.set_blocking(p.stdout.fileno(), False)
    early, still_open = b"", False
    while True:
        try:
            chunk = os.read(p.stdout.fileno(), 65536)
        except BlockingIOError:
            still_open = True  # no EOF: another process still holds the write end
            break
        if not chunk:
            break
        early += chunk
    os.set_blocking(p.stdout.fileno(), True)
    out, err = p.communicate()
    res = {"rc": p.returncode, "stdout": (early + out).decode(errors="replace"),
           "stderr": err.decode(errors="replace"), "then": None,
           "stdout_open_after_exit": still_open, "orphans": [], "unreaped": False}
    if then:
        res["then"] = subprocess.run(then, shell=True, capture_output=True, text=True).stdout
    deadline = time.monotonic() + 5
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            if time.monotonic() > deadline:
                res["unreaped"] = True
                break
            time.sleep(0.005)
            continue
        res["orphans"].append({
            "pid": pid,
            "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else None,
            "exit": os.WEXITSTATUS(status) if os.WIFEXITED(status) else None,
        })
    print(json.dumps(res))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
