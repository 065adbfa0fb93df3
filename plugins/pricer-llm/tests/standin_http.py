"""What the API stand-ins share: a threaded server on 127.0.0.1, JSON replies and multipart uploads."""

from __future__ import annotations

import json
import threading
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JsonHandler(BaseHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass

    def body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length", 0)))

    def reply(self, status: int, content: dict | bytes) -> None:
        raw = content if isinstance(content, bytes) else json.dumps(content).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream" if isinstance(content, bytes) else "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def upload(self, raw: bytes) -> tuple[bytes, str, str]:
        """(file content, file name, purpose) of a multipart files.create request."""
        message = BytesParser(policy=default_policy).parsebytes(b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + raw)
        parts = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
        return parts["file"].get_payload(decode=True), parts["file"].get_filename(), parts["purpose"].get_content().strip()


class StandInServer:
    """Serve `handler` in a thread for the duration of a with-block."""

    path_prefix = ""

    def __init__(self, handler: type[JsonHandler]):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{self.path_prefix}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()
