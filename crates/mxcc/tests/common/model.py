"""A scripted stand-in for an agent's model, shared by the real-agent tests (codex.rs,
agents.rs). It listens on 127.0.0.1 and speaks the wire APIs the agents use:

- OpenAI Responses (`POST .../responses`, server-sent events): Codex;
- OpenAI Chat Completions (`POST .../chat/completions`, streamed or not): Copilot CLI,
  OpenClaw, Hermes;
- Anthropic Messages (`POST .../messages`, streamed or not);
- model listings (`GET .../models` and the like), which some agents probe first.

Usage: model.py CONFIG.json OUTPUTS.jsonl -- prints its port on stdout, then serves.
CONFIG is {"tool": NAME, "arg": ARGUMENT, "extra": {...}, "steps": [COMMAND, ...]}:
each turn of a conversation that offers tools is answered with one call of the tool
NAME whose argument ARGUMENT is the next command (plus the `extra` arguments); the
step is the number of tool results the agent has sent back so far, so retries and
renamed call ids (OpenClaw's `call0` for `call_0`) do not matter. After the last step
the model answers with a plain message. A request that offers no tools (a title, a
summary) gets a short plain answer.

Every tool result the agent sends back is appended to OUTPUTS.jsonl as
{"step": N, "call_id": "call-N", "output": TEXT}, so a test can check what reached the
model; every request is appended to OUTPUTS.jsonl.requests (method, path, body keys)
for diagnosis."""
import http.server
import json
import sys
import time

config = json.load(open(sys.argv[1]))
outputs = open(sys.argv[2], "a")
requests_log = open(sys.argv[2] + ".requests", "a")
steps = config["steps"]
seen = set()


def text_of(content):
    """The text of a message content: a string, or a list of parts."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for p in content:
            if isinstance(p, dict):
                if "text" in p:
                    out.append(str(p["text"]))
                elif "content" in p:
                    out.append(text_of(p["content"]))
                elif "output" in p:
                    out.append(text_of(p["output"]))
            else:
                out.append(str(p))
        return "\n".join(out)
    return json.dumps(content)


def record(results):
    """Writes each tool result not yet recorded; returns the number of results."""
    for i, r in enumerate(results):
        line = json.dumps({"step": i, "call_id": f"call-{i}", "output": r})
        if (i, r) not in seen:
            seen.add((i, r))
            outputs.write(line + "\n")
    outputs.flush()
    return len(results)


def arguments(step):
    args = dict(config.get("extra", {}))
    args[config["arg"]] = steps[step]
    return json.dumps(args)


def next_step(results):
    step = record(results)
    return step if step < len(steps) else None


# --- OpenAI Responses --------------------------------------------------------------

def responses(req):
    results = [text_of(i.get("output")) for i in req.get("input", [])
               if isinstance(i, dict) and i.get("type") == "function_call_output"]
    step = next_step(results)
    n = len(results)
    evs = [{"type": "response.created", "response": {"id": f"r{n}"}}]
    if step is not None and req.get("tools"):
        evs.append({"type": "response.output_item.done", "item": {
            "type": "function_call", "call_id": f"call-{step}", "name": config["tool"],
            "arguments": arguments(step)}})
    else:
        evs.append({"type": "response.output_item.done", "item": {
            "type": "message", "role": "assistant", "id": "final",
            "content": [{"type": "output_text", "text": "all steps done"}]}})
    usage = {"input_tokens": 1, "input_tokens_details": None, "output_tokens": 1,
             "output_tokens_details": None, "total_tokens": 2}
    evs.append({"type": "response.completed", "response": {"id": f"r{n}", "usage": usage}})
    return "text/event-stream", "".join(
        f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in evs).encode()


# --- OpenAI Chat Completions -------------------------------------------------------

def chat(req):
    results = [text_of(m.get("content")) for m in req.get("messages", [])
               if isinstance(m, dict) and m.get("role") == "tool"]
    step = next_step(results) if req.get("tools") else None
    model = req.get("model", "mock-model")
    created = int(time.time())
    cid = f"chatcmpl-{len(results)}"
    if step is not None:
        call = {"id": f"call_{step}", "type": "function",
                "function": {"name": config["tool"], "arguments": arguments(step)}}
        message = {"role": "assistant", "content": None, "tool_calls": [call]}
        finish = "tool_calls"
    else:
        message = {"role": "assistant", "content": "all steps done"}
        finish = "stop"
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    if not req.get("stream"):
        return "application/json", json.dumps({
            "id": cid, "object": "chat.completion", "created": created, "model": model,
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": usage}).encode()
    chunks = []

    def chunk(delta, finish_reason=None, **more):
        c = {"id": cid, "object": "chat.completion.chunk", "created": created,
             "model": model,
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}]}
        c.update(more)
        chunks.append(c)

    if step is not None:
        chunk({"role": "assistant", "content": None,
               "tool_calls": [dict(call, index=0)]})
    else:
        chunk({"role": "assistant", "content": "all steps done"})
    chunk({}, finish)
    chunks.append({"id": cid, "object": "chat.completion.chunk", "created": created,
                   "model": model, "choices": [], "usage": usage})
    body = "".join(f"data: {json.dumps(c)}\n\n" for c in chunks) + "data: [DONE]\n\n"
    return "text/event-stream", body.encode()


# --- Anthropic Messages ------------------------------------------------------------

def messages(req):
    results = []
    for m in req.get("messages", []):
        if isinstance(m, dict) and isinstance(m.get("content"), list):
            for p in m["content"]:
                if isinstance(p, dict) and p.get("type") == "tool_result":
                    results.append(text_of(p.get("content")))
    step = next_step(results) if req.get("tools") else None
    model = req.get("model", "mock-model")
    if step is not None:
        block = {"type": "tool_use", "id": f"toolu_{step}", "name": config["tool"],
                 "input": json.loads(arguments(step))}
        stop = "tool_use"
    else:
        block = {"type": "text", "text": "all steps done"}
        stop = "end_turn"
    usage = {"input_tokens": 1, "output_tokens": 1}
    msg = {"id": f"msg_{len(results)}", "type": "message", "role": "assistant",
           "model": model, "content": [block], "stop_reason": stop,
           "stop_sequence": None, "usage": usage}
    if not req.get("stream"):
        return "application/json", json.dumps(msg).encode()
    start = dict(msg, content=[], stop_reason=None)
    if block["type"] == "tool_use":
        first = dict(block, input={})
        delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
    else:
        first = {"type": "text", "text": ""}
        delta = {"type": "text_delta", "text": block["text"]}
    evs = [
        {"type": "message_start", "message": start},
        {"type": "content_block_start", "index": 0, "content_block": first},
        {"type": "content_block_delta", "index": 0, "delta": delta},
        {"type": "content_block_stop", "index": 0},
        {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None},
         "usage": {"output_tokens": 1}},
        {"type": "message_stop"},
    ]
    return "text/event-stream", "".join(
        f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in evs).encode()


MODELS = {"object": "list", "data": [
    {"id": config.get("model", "mock-model"), "object": "model", "created": 0,
     "owned_by": "mxc", "context_length": 128000, "max_model_len": 128000}]}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def reply(self, status, ctype, body):
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log(self, body):
        keys = sorted(body.keys()) if isinstance(body, dict) else None
        requests_log.write(json.dumps({"method": self.command, "path": self.path,
                                       "keys": keys}) + "\n")
        requests_log.flush()

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            req = json.loads(raw or b"{}")
        except ValueError:
            req = {}
        self.log(req)
        path = self.path.split("?")[0].rstrip("/")
        if path.endswith("/responses"):
            self.reply(200, *responses(req))
        elif path.endswith("/chat/completions"):
            self.reply(200, *chat(req))
        elif path.endswith("/messages"):
            self.reply(200, *messages(req))
        else:
            self.reply(404, "application/json", b'{"error": "not found"}')

    def do_GET(self):
        self.log(None)
        path = self.path.split("?")[0].rstrip("/")
        if path.endswith("/models"):
            self.reply(200, "application/json", json.dumps(MODELS).encode())
        elif "/models/" in path:
            self.reply(200, "application/json", json.dumps(MODELS["data"][0]).encode())
        else:
            self.reply(404, "application/json", b'{"error": "not found"}')

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
