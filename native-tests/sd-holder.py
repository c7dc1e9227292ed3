#!/usr/bin/env python3
"""What systemd does for kelpie-nbd.socket + kelpie.service (Restart=always), for a test: holds a
listening TCP socket on 127.0.0.1:PORT and runs COMMAND with it as fd 3 (LISTEN_FDS=1,
LISTEN_PID, LISTEN_FDNAMES=nbd), again each time it exits, writing each child's pid to PIDFILE.
Usage: sd-holder.py PORT PIDFILE COMMAND..."""
import os
import socket
import sys

port, pidfile, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", port))
s.listen(128)
while True:
    pid = os.fork()
    if pid == 0:
        if s.fileno() != 3:
            os.dup2(s.fileno(), 3)
        os.set_inheritable(3, True)  # dup2 onto itself would leave it close-on-exec
        env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES="nbd")
        os.execvpe(cmd[0], cmd, env)
    with open(pidfile + ".tmp", "w") as f:
        f.write(f"{pid}\n")
    os.rename(pidfile + ".tmp", pidfile)
    os.waitpid(pid, 0)
