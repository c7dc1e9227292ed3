#!/usr/bin/env python3
"""A logging TCP relay for NBD: listens on 127.0.0.1:LISTEN, forwards every connection to
127.0.0.1:TARGET unchanged and appends to LOG what each client asked for: its handshake
flags, its options (with the export name and info requests of NBD_OPT_INFO/GO) and, when
the connection closes, how many transmission requests of each command and flag it sent.
native-tests/kernel-nbd.sh puts it between the guest kernel and the node to check that the
kernel really sends TRIM, FLUSH and FUA writes, and uses every connection of `-C 2`.
usage: nbd-tap.py LISTEN TARGET LOG"""
import collections
import socket
import struct
import sys
import threading

OPTS = {1: "EXPORT_NAME", 3: "ABORT", 5: "STARTTLS", 6: "INFO", 7: "GO", 8: "STRUCTURED_REPLY",
        9: "LIST_META_CONTEXT", 10: "SET_META_CONTEXT", 11: "EXTENDED_HEADERS"}
CMDS = {0: "READ", 1: "WRITE", 2: "DISC", 3: "FLUSH", 4: "TRIM", 5: "CACHE", 6: "WRITE_ZEROES",
        7: "BLOCK_STATUS", 8: "RESIZE"}
FLAGS = {1: "FUA", 2: "NO_HOLE", 4: "DF", 8: "REQ_ONE", 16: "FAST_ZERO", 32: "PAYLOAD_LEN"}
REQUEST_MAGIC = 0x25609513

lock = threading.Lock()


def log(path, line):
    with lock, open(path, "a") as f:
        f.write(line + "\n")


class ClientStream:
    """Parses what the client sends (flags, options, then requests); never alters it."""

    def __init__(self, name, path):
        self.name, self.path = name, path
        self.buf = bytearray()
        self.state = "flags"
        self.skip = 0  # payload bytes of a WRITE still to pass
        self.counts = collections.Counter()

    def feed(self, data):
        self.buf += data
        while self.state != "lost" and self.step():
            pass

    def step(self):
        b = self.buf
        if self.state == "flags":
            if len(b) < 4:
                return False
            log(self.path, f"{self.name} client flags {struct.unpack('>I', b[:4])[0]:#x}")
            del b[:4]
            self.state = "options"
        elif self.state == "options":
            if len(b) < 16:
                return False
            _, opt, length = struct.unpack(">QII", b[:16])
            if len(b) < 16 + length:
                return False
            data = bytes(b[16:16 + length])
            del b[:16 + length]
            detail = ""
            if opt in (6, 7) and length >= 6:
                n = struct.unpack(">I", data[:4])[0]
                count = struct.unpack(">H", data[4 + n:6 + n])[0]
                infos = [struct.unpack(">H", data[6 + n + 2 * i:8 + n + 2 * i])[0] for i in range(count)]
                detail = f" export={data[4:4 + n].decode(errors='replace')!r} info_requests={infos}"
            log(self.path, f"{self.name} option NBD_OPT_{OPTS.get(opt, opt)}{detail}")
            if opt in (1, 7):  # assumes the server accepts: the tap is for clients that work
                self.state = "requests"
        else:
            if self.skip:
                n = min(self.skip, len(b))
                del b[:n]
                self.skip -= n
                return self.skip == 0 and len(b) > 0
            if len(b) < 28:
                return False
            magic, flags, cmd, _, _, length = struct.unpack(">IHHQQI", b[:28])
            del b[:28]
            if magic != REQUEST_MAGIC:
                log(self.path, f"{self.name} lost track: request magic {magic:#x}")
                self.state = "lost"
                return False
            names = "+".join(v for k, v in FLAGS.items() if flags & k)
            self.counts[CMDS.get(cmd, str(cmd)) + (f"+{names}" if names else "")] += 1
            if cmd == 1:
                self.skip = length
        return True


def relay(src, dst, parser=None):
    try:
        while True:
            data = src.recv(1 << 16)
            if not data:
                break
            dst.sendall(data)
            if parser:
                parser.feed(data)
    except OSError:
        pass
    finally:
        try:
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass


def serve(client, target, name, path):
    with client, socket.create_connection(("127.0.0.1", target)) as server:
        parser = ClientStream(name, path)
        back = threading.Thread(target=relay, args=(server, client), daemon=True)
        back.start()
        relay(client, server, parser)
        back.join()
        if parser.state != "flags":  # port probes that send nothing are not worth a line
            counts = " ".join(f"{k}={v}" for k, v in sorted(parser.counts.items()))
            log(path, f"{name} closed: {counts}")


def main():
    listen, target, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", listen))
        s.listen(16)
        n = 0
        while True:
            client, _ = s.accept()
            n += 1
            threading.Thread(target=serve, args=(client, target, f"conn{n}", path), daemon=True).start()


if __name__ == "__main__":
    main()
