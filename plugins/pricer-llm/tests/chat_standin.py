"""An OpenAI-compatible chat server on 127.0.0.1 that answers one fixed price and records every request.

Used as a capture server: a test asserts on who called it, with which headers, how often.
"""

from __future__ import annotations

import json
import threading
import time

from standin_http import JsonHandler, StandInServer


class ChatStandIn(StandInServer):
    path_prefix = "/v1"

    def __init__(self, price: float = 42.0, alias: str = "smollm2"):
        self.price, self.alias = price, alias
        self.requests: list[dict] = []
        self._lock = threading.Lock()
        super().__init__(self._handler())

    def _record(self, handler: JsonHandler, body: bytes) -> dict:
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        request = {"method": handler.command, "path": handler.path, "headers": {name.lower(): value for name, value in handler.headers.items()}, "body": parsed}
        with self._lock:
            self.requests.append(request)
        return request

    def _handler(self):
        standin = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                request = standin._record(self, self.body())
                if self.path != "/v1/chat/completions" or not isinstance(request["body"], dict):
                    self.reply(404, {"error": {"message": f"no route {self.path}"}})
                    return
                self.reply(200, {
                    "id": f"chatcmpl-{len(standin.requests)}", "object": "chat.completion", "created": int(time.time()),
                    "model": request["body"].get("model", standin.alias),
                    "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": json.dumps({"price": standin.price})}}],
                    "usage": {"prompt_tokens": 30, "completion_tokens": 6, "total_tokens": 36},
                })

            def do_GET(self) -> None:
                standin._record(self, b"")
                if self.path == "/v1/models":
                    self.reply(200, {"object": "list", "data": [{"id": standin.alias, "object": "model", "owned_by": "me"}]})
                else:
                    self.reply(404, {"error": {"message": f"no route {self.path}"}})

        return Handler
