"""Lesson 02, a careful client: python3 client02.py HOST PORT [FAULT]."""
import socket
import sys
import time

host, port = sys.argv[1], int(sys.argv[2])
fault = sys.argv[3] if len(sys.argv) > 3 else ""

if fault == "never-connects":
    time.sleep(60)
try:
    client = socket.create_connection((host, port))
except OSError as error:
    print(f"client02: cannot connect to {host}:{port}: {error}", file=sys.stderr)
    sys.exit(1)

data = b"\xff\xff" if fault == "sends-invalid" else "你好服务端，我是客户端小黑!".encode("gbk")
client.sendall(data)
if fault == "literal":
    # Never reads: prints what the tutorial's server says, not what came.
    print("received:", "我是服务器")
else:
    reply = client.recv(1024)
    if fault != "no-print":
        print("received:", reply.decode("gbk", errors="replace"))
if fault == "never-closes":
    time.sleep(60)
client.close()
if fault == "exit-1":
    sys.exit(1)
