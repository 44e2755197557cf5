"""A scripted stand-in for Codex's model: speaks the Responses API (SSE) and answers
each turn with the next `exec_command` call of a script, then a final message.

Usage: fake_model.py SCRIPT.json OUTPUTS.jsonl — prints its port on stdout. Every tool
output Codex sends back is appended to OUTPUTS.jsonl (so a test can check what reached
the model)."""
import http.server
import json
import sys

script = json.load(open(sys.argv[1]))
outputs = open(sys.argv[2], "a")


def events(req):
    items = req.get("input", [])
    done = [i for i in items if i.get("type") == "function_call_output"]
    for i in done:
        outputs.write(json.dumps(i) + "\n")
    outputs.flush()
    step = len(done)
    evs = [{"type": "response.created", "response": {"id": f"r{step}"}}]
    if step < len(script):
        evs.append({
            "type": "response.output_item.done",
            "item": {
                "type": "function_call",
                "call_id": f"call-{step}",
                "name": "exec_command",
                "arguments": json.dumps({"cmd": script[step], "tty": False, "yield_time_ms": 10000}),
            },
        })
    else:
        evs.append({
            "type": "response.output_item.done",
            "item": {"type": "message", "role": "assistant", "id": "final",
                     "content": [{"type": "output_text", "text": "all steps done"}]},
        })
    usage = {"input_tokens": 1, "input_tokens_details": None, "output_tokens": 1,
             "output_tokens_details": None, "total_tokens": 2}
    evs.append({"type": "response.completed", "response": {"id": f"r{step}", "usage": usage}})
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e)}\n\n" for e in evs).encode()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        out = events(json.loads(body))
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def do_GET(self):
        self.send_response(404)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
