"""A stand-in for OpenAI's files and fine-tuning endpoints on 127.0.0.1 (what the job flow calls)."""

from __future__ import annotations

import json
import time
import uuid

from standin_http import JsonHandler, StandInServer


class OpenAIStandIn(StandInServer):
    path_prefix = "/v1"

    def __init__(self, polls_until_done: int = 2):
        self.files: dict[str, bytes] = {}
        self.jobs: dict[str, dict] = {}
        self.polls: dict[str, int] = {}
        self.polls_until_done = polls_until_done
        super().__init__(self._handler())

    def _handler(self):
        standin = self

        class Handler(JsonHandler):
            def do_POST(self) -> None:
                raw = self.body()
                if self.path == "/v1/files":
                    content, filename, purpose = self.upload(raw)
                    for line in content.decode().splitlines():  # the real service validates every line too
                        roles = [message["role"] for message in json.loads(line)["messages"]]
                        if roles[-1] != "assistant":
                            self.reply(400, {"error": {"message": "last message must be the assistant's"}})
                            return
                    file_id = f"file-{uuid.uuid4().hex[:10]}"
                    standin.files[file_id] = content
                    self.reply(200, {"id": file_id, "object": "file", "bytes": len(content), "created_at": int(time.time()), "filename": filename, "purpose": purpose, "status": "processed"})
                elif self.path == "/v1/fine_tuning/jobs":
                    request = json.loads(raw)
                    if request["training_file"] not in standin.files:
                        self.reply(400, {"error": {"message": "unknown training file"}})
                        return
                    job_id = f"ftjob-{uuid.uuid4().hex[:10]}"
                    standin.jobs[job_id] = {"id": job_id, "object": "fine_tuning.job", "model": request["model"], "training_file": request["training_file"], "validation_file": request.get("validation_file"), "status": "validating_files", "fine_tuned_model": None, "created_at": int(time.time()), "hyperparameters": request.get("hyperparameters", {}), "organization_id": "org", "result_files": [], "seed": 0, "trained_tokens": None, "error": None, "finished_at": None}
                    standin.polls[job_id] = 0
                    self.reply(200, standin.jobs[job_id])
                else:
                    self.reply(404, {"error": {"message": self.path}})

            def do_GET(self) -> None:
                parts = self.path.strip("/").split("/")
                if parts[:3] == ["v1", "fine_tuning", "jobs"] and len(parts) == 4 and parts[3] in standin.jobs:
                    job = standin.jobs[parts[3]]
                    standin.polls[job["id"]] += 1
                    if standin.polls[job["id"]] >= standin.polls_until_done:
                        job.update(status="succeeded", fine_tuned_model=f"ft:{job['model']}:pricer:{job['id'][-6:]}", finished_at=int(time.time()))
                    else:
                        job["status"] = "running"
                    self.reply(200, job)
                else:
                    self.reply(404, {"error": {"message": self.path}})

        return Handler
