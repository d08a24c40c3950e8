"""Holds a listening socket across restarts of the program it runs, as systemd's socket
activation does, so a collector's restart() (harness/collector.js) leaves the port bound
throughout: no other bind can take it, and a request made in between waits in the backlog.
Node can't do this itself: it accepts on every socket it listens on.

usage: python3 socket-holder.py HOST:PORT PROGRAM [ARG...]

Listens on HOST:PORT (port 0 picks one) and runs PROGRAM with the socket at fd 3,
LISTEN_FDS=1 and LISTEN_PID set to the program's pid. A line "restart" on stdin: SIGTERM
the program, wait for it to exit, run it again on the same socket. SIGTERM, or stdin closed:
stop the program, then exit with its status.
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

    def terminate(_signal, _frame):
        raise SystemExit

    signal.signal(signal.SIGTERM, terminate)
    child = run(program)
    try:
        for line in sys.stdin:
            if line.strip() == "restart":
                stop(child)
                child = run(program)
    except SystemExit:
        pass
    finally:
        code = stop(child)
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    main()
