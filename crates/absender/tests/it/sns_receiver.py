"""An SNS HTTP(S) endpoint on 127.0.0.1, as apps that read SES notifications
through SNS run one: it checks every message's signature (SignatureVersion 2:
RSA with SHA-256 over SNS's canonical fields) with the certificate fetched
from SigningCertURL, confirms a subscription by visiting its SubscribeURL,
and logs each message as a JSON line.

Arguments: the log file. Prints its port, then serves until killed.
"""

import base64
import json
import sys
import urllib.request
from http.server import BaseHTTPRequestHandler, HTTPServer

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding

log_file = sys.argv[1]
FIELDS = {
    "Notification": ["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
    "SubscriptionConfirmation": ["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"],
}


def verify(message):
    if message.get("SignatureVersion") != "2":
        raise ValueError("not SignatureVersion 2")
    canonical = "".join(
        f"{k}\n{message[k]}\n" for k in FIELDS[message["Type"]] if k in message
    )
    with urllib.request.urlopen(message["SigningCertURL"]) as r:
        cert = x509.load_pem_x509_certificate(r.read())
    cert.public_key().verify(
        base64.b64decode(message["Signature"]),
        canonical.encode(),
        padding.PKCS1v15(),
        hashes.SHA256(),
    )


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["content-length"]))
        message = json.loads(body)
        try:
            verify(message)
            error = None
        except Exception as e:  # noqa: BLE001 - the test sees every failure
            error = repr(e)
        confirmed = None
        if error is None and message["Type"] == "SubscriptionConfirmation":
            with urllib.request.urlopen(message["SubscribeURL"]) as r:
                confirmed = r.status
        with open(log_file, "a") as f:
            f.write(json.dumps({
                "type_header": self.headers.get("x-amz-sns-message-type"),
                "verified": error is None,
                "error": error,
                "confirmed": confirmed,
                "message": message,
            }) + "\n")
        self.send_response(200 if error is None else 400)
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
