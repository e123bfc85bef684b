#!/usr/bin/env python3
"""A local OpenAI-compatible chat-completions server for tests (stdlib only, loopback only).

Usage: fake_openai.py PORT_FILE RECORD_FILE
Answers POST .../chat/completions with a streamed (chunked, SSE) reply of fixed pieces, and
writes what it was sent (Authorization header, path, JSON body) to RECORD_FILE for the test
to check. Writes its port to PORT_FILE once listening.
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

PIECES = ["Hello", " from", " the", " model"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        body = json.loads(self.rfile.read(length) or b"{}")
        with open(sys.argv[2], "w") as f:
            json.dump({"authorization": self.headers.get("Authorization"),
                       "path": self.path, "body": body}, f)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for piece in PIECES:
            event = {"choices": [{"index": 0, "delta": {"content": piece}}]}
            self.chunk(("data: " + json.dumps(event) + "\n\n").encode())
        self.chunk(b"data: [DONE]\n\n")
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def chunk(self, data):
        self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
        self.wfile.flush()


server = HTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1], "w") as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
