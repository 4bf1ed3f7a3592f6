#!/usr/bin/env python3
"""subreaper.py [--then SHELL_CMD] -- CMD [ARG]...

Runs CMD the way a runtime runs a plugin or a hook (stdin passed on, stdout and stderr read
to EOF, the exit status waited for) as a child subreaper (PR_SET_CHILD_SUBREAPER), so that
any process CMD leaves behind is reparented to this script. CMD's exit is awaited first
(waitid WNOWAIT, its output staying in the pipe); "stdout_open_after_exit" tells whether
something else still held CMD's stdout at that instant (a runtime reading to EOF would
wait for it). Then: runs SHELL_CMD (to look at the state CMD left), reaps every orphan
for up to 5 s. Prints one JSON object:
  {"rc": N, "stdout": "...", "stderr": "...", "then": "...", "stdout_open_after_exit": bool,
   "orphans": [{"pid": P, "signal": S|null, "exit": E|null}], "unreaped": bool}
"""
import ctypes
import json
import os
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main(argv):
    then = None
    if argv[:1] == ["--then"]:
        then, argv = argv[1], argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        print("subreaper.py: prctl failed", file=sys.stderr)
        return 2
    p = subprocess.Popen(argv, stdin=sys.stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
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
