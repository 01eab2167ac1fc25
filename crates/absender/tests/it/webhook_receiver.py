"""A webhook receiver on 127.0.0.1 that verifies every request with the
Standard Webhooks reference package and logs it as a JSON line.

Arguments: the file holding the secret (read per request, so a test can
rotate it), the log file, and how many first requests get a 500.
Prints its port, then serves until killed.
"""

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer

from standardwebhooks.webhooks import Webhook

secret_file, log_file, fail_first = sys.argv[1], sys.argv[2], int(sys.argv[3])
seen = {"requests": 0}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        seen["requests"] += 1
        status = 500 if seen["requests"] <= fail_first else 200
        headers = {k.lower(): v for k, v in self.headers.items()}
        with open(secret_file) as f:
            secret = f.read().strip()
        try:
            payload, error = Webhook(secret).verify(body, headers), None
        except Exception as e:  # noqa: BLE001 - every failure is the test's to see
            payload, error, status = None, repr(e), 400
        with open(log_file, "a") as f:
            f.write(json.dumps({
                "id": headers.get("webhook-id"),
                "signatures": len(headers.get("webhook-signature", "").split()),
                "status": status,
                "verified": error is None,
                "error": error,
                "payload": payload,
            }) + "\n")
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
