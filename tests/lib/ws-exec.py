#!/usr/bin/env python3
"""ws-exec.py SOCKET PATH [TOKEN] [INPUT...]: open sandhostd's exec websocket
on a unix socket, send each INPUT as binary (text messages starting with '{'
go as control), print what comes back (binary as text; control messages on
their own lines, prefixed "#ctl "), until the server closes."""
import socket, sys, time
import websocket   # Debian's python3-websocket

sock_path, path = sys.argv[1], sys.argv[2]
token = sys.argv[3] if len(sys.argv) > 3 and sys.argv[3] else None
inputs = sys.argv[4:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sock_path)
headers = [f"Authorization: Bearer {token}"] if token else []
ws = websocket.WebSocket()
ws.connect("ws://sandhost" + path, socket=s, header=headers, timeout=10)
for i in inputs:
    if i.startswith("{"):
        ws.send(i)
    else:
        ws.send_binary(i.encode())
    time.sleep(0.2)
out = []
while True:
    try:
        op, data = ws.recv_data()
    except (websocket.WebSocketConnectionClosedException, websocket.WebSocketTimeoutException):
        break
    if op == websocket.ABNF.OPCODE_CLOSE:
        break
    if op == websocket.ABNF.OPCODE_TEXT:
        out.append("\n#ctl " + data.decode() + "\n")
    else:
        out.append(data.decode(errors="replace"))
sys.stdout.write("".join(out))
