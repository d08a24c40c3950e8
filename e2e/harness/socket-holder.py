"""Holds a listening socket across restarts of the program it runs, as systemd's socket
activation does, so a collector's restart() (harness/collector.js) leaves the port bound
throughout: no other bind can take it, and a request made in between waits in the backlog.
Node can't do this itself: it accepts on every socket it listens on.

usage: python3 socket-holder.py HOST:PORT PROGRAM [ARG...]

Listens on HOST:PORT (port 0 picks one) and runs PROGRAM with the socket at fd 3,
LISTEN_FDS=1 and LISTEN_PID set to the program's pid. A line "restart" on stdin: SIGTERM
the program, wait for it to exit, run it again on the same socket. SIGTERM, or stdin closed:
stop the program, then exit with its status; the program's ending by itself ends it too.
"""
import os
import signal
import socket
import subprocess
import sys


def run(program):
    def set_pid():
        os.environ["LISTEN_PID"] = str(os.getpid())

    # env=None: the child's own environment at exec, with set_pid's change.
    return subprocess.Popen(program, pass_fds=(3,), preexec_fn=set_pid)


def stop(child):
    child.terminate()
    return child.wait()


def main():
    host, port = sys.argv[1].rsplit(":", 1)
    program = sys.argv[2:]
    listener = socket.create_server((host, int(port)), backlog=128)
    # fd 3 is where the protocol puts the first socket.
    if listener.fileno() != 3:
        os.dup2(listener.fileno(), 3, inheritable=False)
    os.environ["LISTEN_FDS"] = "1"

    # A SIGTERM while a program starts waits until it runs, so that it is the one stopped,
    # not left behind.
    starting = False
    stopping = False
    child = None

    def terminate(_signal, _frame):
        nonlocal stopping
        stopping = True
        if not starting:
            raise SystemExit

    def ended(_signal, _frame):
        # The program ended by itself (a failed start, a crash): so does the holder.
        if not starting and not stopping and child and child.poll() is not None:
            raise SystemExit

    def start(earlier):
        nonlocal starting
        starting = True
        if earlier:
            stop(earlier)
        started = run(program)
        starting = False
        return started

    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGCHLD, ended)
    try:
        child = start(None)
        while not stopping and child.poll() is None:
            line = sys.stdin.readline()
            if not line:
                break
            if line.strip() == "restart":
                child = start(child)
    except SystemExit:
        pass
    finally:
        stopping = True
        code = stop(child) if child else 1
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
