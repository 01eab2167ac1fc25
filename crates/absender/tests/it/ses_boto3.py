"""boto3 (1.44.8, with its own botocore) drives absender's SES v2 API.

Run by tests/it/ses.rs with ENDPOINT, KEY_ID, SECRET and REGION in the
environment. Each step's answer (or the error's code) is printed as one JSON
object for the Rust test to check; nothing here decides pass or fail.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request

import boto3
import botocore
from botocore.config import Config

client = boto3.client(
    "sesv2",
    endpoint_url=os.environ["ENDPOINT"],
    region_name=os.environ["REGION"],
    aws_access_key_id=os.environ["KEY_ID"],
    aws_secret_access_key=os.environ["SECRET"],
    config=Config(retries={"max_attempts": 1}),
)
results = {"botocore": botocore.__version__}


def step(name, call, **kwargs):
    try:
        answer = call(**kwargs)
        answer.pop("ResponseMetadata", None)
        results[name] = {"ok": answer}
    except client.exceptions.ClientError as e:
        results[name] = {"error": e.response["Error"]["Code"], "message": e.response["Error"]["Message"]}


step("create_domain", client.create_email_identity, EmailIdentity=os.environ["DOMAIN"])
step("create_address", client.create_email_identity, EmailIdentity="info@" + os.environ["DOMAIN"])
# The first check runs at once after the request; poll until it has.
for _ in range(50):
    step("get_domain", client.get_email_identity, EmailIdentity=os.environ["DOMAIN"])
    if results["get_domain"].get("ok", {}).get("VerificationStatus") == "SUCCESS":
        break
    time.sleep(0.1)
step("list_identities", client.list_email_identities, PageSize=1)
step("put_mail_from", client.put_email_identity_mail_from_attributes,
     EmailIdentity=os.environ["DOMAIN"], MailFromDomain="mail." + os.environ["DOMAIN"],
     BehaviorOnMxFailure="USE_DEFAULT_VALUE")
step("create_template", client.create_email_template, TemplateName="hello",
     TemplateContent={"Subject": "Hi {{name}}", "Text": "Hello {{name}}", "Html": "<b>{{name}}</b>"})
step("get_template", client.get_email_template, TemplateName="hello")
step("list_templates", client.list_email_templates)
step("render", client.test_render_email_template, TemplateName="hello", TemplateData='{"name": "<Ada>"}')
step("send_simple", client.send_email, FromEmailAddress=os.environ["FROM"],
     Destination={"ToAddresses": ["guest@example.test"]},
     Content={"Simple": {"Subject": {"Data": "Hallo"}, "Body": {"Text": {"Data": "Hi"}},
                         "Attachments": [{"FileName": "a.txt", "RawContent": b"attached", "ContentType": "text/plain"}]}},
     EmailTags=[{"Name": "absender-category", "Value": "booking"}])
step("send_raw", client.send_email,
     Content={"Raw": {"Data": ("From: " + os.environ["FROM"] + "\r\nTo: guest@example.test\r\nSubject: Raw\r\n\r\nRaw body\r\n").encode()}})
# A message larger than the 1 MiB other requests may carry (2 MiB in base64).
big = "From: " + os.environ["FROM"] + "\r\nTo: guest@example.test\r\nSubject: Big\r\n\r\n" + ("x" * 76 + "\r\n") * 20000
step("send_big_raw", client.send_email, Content={"Raw": {"Data": big.encode()}})
step("send_template", client.send_email, FromEmailAddress=os.environ["FROM"],
     Destination={"ToAddresses": ["guest@example.test"]},
     Content={"Template": {"TemplateName": "hello", "TemplateData": '{"name": "Bob"}'}})
step("send_unverified", client.send_email, FromEmailAddress="ceo@bank.example",
     Destination={"ToAddresses": ["guest@example.test"]},
     Content={"Simple": {"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "x"}}}})
step("send_bulk", client.send_bulk_email, FromEmailAddress=os.environ["FROM"],
     DefaultContent={"Template": {"TemplateName": "hello", "TemplateData": '{"name": "you"}'}},
     BulkEmailEntries=[{"Destination": {"ToAddresses": ["b%d@example.test" % i]},
                        "ReplacementEmailContent": {"ReplacementTemplate": {"ReplacementTemplateData": '{"name": "N%d"}' % i}}}
                       for i in range(3)])
step("put_suppressed", client.put_suppressed_destination, EmailAddress="gone@example.test", Reason="COMPLAINT")
step("get_suppressed", client.get_suppressed_destination, EmailAddress="gone@example.test")
step("list_suppressed", client.list_suppressed_destinations, Reasons=["BOUNCE"])
step("delete_suppressed", client.delete_suppressed_destination, EmailAddress="gone@example.test")
step("account", client.get_account)
step("update_template", client.update_email_template, TemplateName="hello",
     TemplateContent={"Subject": "Bye {{name}}", "Text": "Bye"})
step("delete_template", client.delete_email_template, TemplateName="hello")
step("get_deleted_template", client.get_email_template, TemplateName="hello")
step("delete_address", client.delete_email_identity, EmailIdentity="info@" + os.environ["DOMAIN"])
step("not_offered", client.list_dedicated_ip_pools)

# A body changed after signing (same length): AWS's name for it.
def tamper(request, **kwargs):
    body = request.body if isinstance(request.body, bytes) else request.body.encode()
    request.body = body.replace(b"tampered", b"tampereX")


client.meta.events.register("before-send.sesv2.CreateEmailTemplate", tamper)
step("tampered_body", client.create_email_template, TemplateName="tampered",
     TemplateContent={"Subject": "s", "Text": "t"})
client.meta.events.unregister("before-send.sesv2.CreateEmailTemplate", tamper)

# A presigned GetAccount: the signature in the query, fetched without boto3.
url = client.generate_presigned_url("get_account", ExpiresIn=60)
try:
    with urllib.request.urlopen(url) as response:
        results["presigned"] = {"status": response.status, "body": json.loads(response.read())}
except urllib.error.HTTPError as e:
    results["presigned"] = {"status": e.code, "error": e.headers.get("x-amzn-ErrorType")}
tampered = url.replace("X-Amz-Expires=60", "X-Amz-Expires=600")
try:
    with urllib.request.urlopen(tampered) as response:
        results["presigned_tampered"] = {"status": response.status}
except urllib.error.HTTPError as e:
    results["presigned_tampered"] = {"status": e.code, "error": e.headers.get("x-amzn-ErrorType")}

# Timestamps arrive as datetimes; they print as text.
# A presigned SendEmail: refused, a URL that leaks must not send mail.
send_url = client.generate_presigned_url("send_email", Params={
    "FromEmailAddress": os.environ["FROM"], "Destination": {"ToAddresses": ["guest@example.test"]},
    "Content": {"Simple": {"Subject": {"Data": "x"}, "Body": {"Text": {"Data": "x"}}}}}, ExpiresIn=60)
try:
    with urllib.request.urlopen(urllib.request.Request(send_url, data=b"", method="POST")) as response:
        results["presigned_send"] = {"status": response.status}
except urllib.error.HTTPError as e:
    results["presigned_send"] = {"status": e.code, "error": e.headers.get("x-amzn-ErrorType")}

json.dump(results, sys.stdout, default=str)
