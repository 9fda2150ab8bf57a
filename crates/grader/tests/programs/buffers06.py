"""Lesson 06, sink and source: python3 buffers06.py MODE PORT [FAULT].

sink: accept one connection, count bytes until the peer closes, reply the
count as decimal digits. source: send BYTES bytes (byte i is i % 251).
"""
import os
import socket
import sys

mode, port = sys.argv[1], int(sys.argv[2])
fault = sys.argv[3] if len(sys.argv) > 3 else ""

if mode == "sink":
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, True)
    server.bind(("", port))
    server.listen(128)
    conn, _ = server.accept()
    total = 0
    if fault == "counts-8mib":
        # Counts to the lesson's 8 MiB: with more it replies too early, with
        # fewer recv returns b"" for ever and it never replies.
        while total < 8388608:
            total += len(conn.recv(65536))
    else:
        while True:
            data = conn.recv(65536)
            total += len(data)
            if not data or fault == "reads-once":
                break
    conn.sendall(str(total).encode())
    conn.close()
else:
    size = int(os.environ["BYTES"])
    data = (bytes(range(251)) * (size // 251 + 1))[:size]
    client = socket.create_connection(("127.0.0.1", port))
    if fault == "partial-send":
        client.setblocking(False)
        client.send(data)
    else:
        client.sendall(data)
    client.close()
    if fault == "exit-1":
        sys.exit(1)
