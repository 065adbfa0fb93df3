"""A stand-in for Groq's files and batches endpoints on 127.0.0.1, answering from a live local model.

Only the surface the batch flow uses: POST /openai/v1/files (multipart), POST /openai/v1/batches,
GET /openai/v1/batches/{id}, GET /openai/v1/files/{id}/content. Each request line is sent to the
real llama.cpp server; ids in `fail_once` land in the error file the first time they are seen.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from email.parser import BytesParser
from email.policy import default as default_policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx


class GroqStandIn:
    def __init__(self, upstream_api_base: str, alias: str = "smollm2", fail_once: set[str] | None = None):
        self.upstream, self.alias = upstream_api_base.rstrip("/"), alias
        self.fail_once = set(fail_once or ())
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
        self.uploads = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> GroqStandIn:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.server.shutdown()

    def _process(self, batch_id: str) -> None:
        batch = self.batches[batch_id]
        batch["status"] = "in_progress"
        outputs, errors = [], []
        for line in self.files[batch["input_file_id"]].decode().splitlines():
            request = json.loads(line)
            custom_id = request["custom_id"]
            if custom_id in self.fail_once:
                self.fail_once.discard(custom_id)
                errors.append({"id": f"req_{uuid.uuid4().hex[:8]}", "custom_id": custom_id, "response": None, "error": {"code": "server_error", "message": "simulated failure"}})
                continue
            body = {**request["body"], "model": self.alias}
            reply = httpx.post(f"{self.upstream}/chat/completions", json=body, timeout=120)
            outputs.append({"id": f"req_{uuid.uuid4().hex[:8]}", "custom_id": custom_id, "response": {"status_code": reply.status_code, "body": reply.json()}, "error": None})
        if outputs:
            batch["output_file_id"] = self._store("".join(json.dumps(row) + "\n" for row in outputs).encode())
        if errors:
            batch["error_file_id"] = self._store("".join(json.dumps(row) + "\n" for row in errors).encode())
        batch["status"] = "completed"

    def _store(self, content: bytes) -> str:
        file_id = f"file_{uuid.uuid4().hex[:12]}"
        self.files[file_id] = content
        return file_id

    def _handler(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def _json(self, status: int, content: dict) -> None:
                body = json.dumps(content).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                raw = self.rfile.read(length)
                if self.path == "/openai/v1/files":
                    message = BytesParser(policy=default_policy).parsebytes(
                        b"Content-Type: " + self.headers["Content-Type"].encode() + b"\r\n\r\n" + raw
                    )
                    parts = {part.get_param("name", header="content-disposition"): part for part in message.iter_parts()}
                    content = parts["file"].get_payload(decode=True)
                    standin.uploads += 1
                    file_id = standin._store(content)
                    self._json(200, {"id": file_id, "object": "file", "bytes": len(content), "created_at": int(time.time()), "filename": parts["file"].get_filename(), "purpose": parts["purpose"].get_content().strip()})
                elif self.path == "/openai/v1/batches":
                    request = json.loads(raw)
                    if request.get("completion_window") != "24h" or request.get("input_file_id") not in standin.files:
                        self._json(400, {"error": {"message": "bad batch request"}})
                        return
                    batch_id = f"batch_{uuid.uuid4().hex[:12]}"
                    standin.batches[batch_id] = {"id": batch_id, "object": "batch", "endpoint": request["endpoint"], "input_file_id": request["input_file_id"], "completion_window": "24h", "status": "validating", "created_at": int(time.time()), "output_file_id": None, "error_file_id": None}
                    threading.Thread(target=standin._process, args=(batch_id,), daemon=True).start()
                    self._json(200, standin.batches[batch_id])
                else:
                    self._json(404, {"error": {"message": f"no route {self.path}"}})

            def do_GET(self) -> None:
                parts = self.path.strip("/").split("/")
                if parts[:3] == ["openai", "v1", "batches"] and len(parts) == 4 and parts[3] in standin.batches:
                    self._json(200, standin.batches[parts[3]])
                elif parts[:3] == ["openai", "v1", "files"] and len(parts) == 5 and parts[4] == "content" and parts[3] in standin.files:
                    body = standin.files[parts[3]]
                    self.send_response(200)
                    self.send_header("Content-Type", "application/octet-stream")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                else:
                    self._json(404, {"error": {"message": f"no route {self.path}"}})

        return Handler
