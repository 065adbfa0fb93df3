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

import httpx

from standin_http import JsonHandler, StandInServer


class GroqStandIn(StandInServer):
    def __init__(self, upstream_api_base: str, alias: str = "smollm2", fail_once: set[str] | None = None):
        self.upstream, self.alias = upstream_api_base.rstrip("/"), alias
        self.fail_once = set(fail_once or ())
        self.files: dict[str, bytes] = {}
        self.batches: dict[str, dict] = {}
        self.uploads = 0
        super().__init__(self._handler())

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

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                raw = self.body()
                if self.path == "/openai/v1/files":
                    content, filename, purpose = self.upload(raw)
                    standin.uploads += 1
                    file_id = standin._store(content)
                    self.reply(200, {"id": file_id, "object": "file", "bytes": len(content), "created_at": int(time.time()), "filename": filename, "purpose": purpose})
                elif self.path == "/openai/v1/batches":
                    request = json.loads(raw)
                    if request.get("completion_window") != "24h" or request.get("input_file_id") not in standin.files:
                        self.reply(400, {"error": {"message": "bad batch request"}})
                        return
                    batch_id = f"batch_{uuid.uuid4().hex[:12]}"
                    standin.batches[batch_id] = {"id": batch_id, "object": "batch", "endpoint": request["endpoint"], "input_file_id": request["input_file_id"], "completion_window": "24h", "status": "validating", "created_at": int(time.time()), "output_file_id": None, "error_file_id": None}
                    threading.Thread(target=standin._process, args=(batch_id,), daemon=True).start()
                    self.reply(200, standin.batches[batch_id])
                else:
                    self.reply(404, {"error": {"message": f"no route {self.path}"}})

            def do_GET(self) -> None:
                parts = self.path.strip("/").split("/")
                if parts[:3] == ["openai", "v1", "batches"] and len(parts) == 4 and parts[3] in standin.batches:
                    self.reply(200, standin.batches[parts[3]])
                elif parts[:3] == ["openai", "v1", "files"] and len(parts) == 5 and parts[4] == "content" and parts[3] in standin.files:
                    self.reply(200, standin.files[parts[3]])
                else:
                    self.reply(404, {"error": {"message": f"no route {self.path}"}})

        return Handler
