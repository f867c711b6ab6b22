"""Reference consumers on boto3, for `cargo bench --bench consumer`.

Each drains the voucher queue into the voucher table the way a careful Python service would, and
stops once it has persisted `--expect` vouchers (the backlog the benchmark preloaded). It prints a
JSON line once its clients are ready, then one with: vouchers, CPU seconds (user + system of this
process while consuming: interpreter start, imports and client set-up excluded), wall seconds and
the requests it made by operation.

Modes:
  batch        receive 10, one BatchWriteItem, one DeleteMessageBatch     (0.3 requests a voucher)
  per-message  receive 10, one PutItem and one DeleteMessage per message  (2.1)
  naive        receive 1, one PutItem, one DeleteMessage                  (3.0)

Every mode decodes and checks the message (version 1, required fields, amount above 0) and writes
the same item as voucherdeck (voucher_id, created_at, recipient, recipient_kind, amount, currency,
sender, persisted_at, and note / idempotency_key when present).
"""

import argparse
import collections
import datetime
import decimal
import json
import sys
import time

import boto3
from botocore.config import Config

REQUIRED = ("voucher_id", "created_at", "amount", "currency", "sender")
RECIPIENT_KINDS = ("email", "wallet")


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--endpoint", required=True)
    p.add_argument("--queue", required=True, help="queue name")
    p.add_argument("--table", required=True)
    p.add_argument("--expect", type=int, required=True, help="vouchers to persist, then stop")
    p.add_argument("--mode", choices=("batch", "per-message", "naive"), default="batch")
    p.add_argument("--wait", type=int, default=1, help="long-poll wait in seconds")
    return p.parse_args()


def item_of(body):
    """The DynamoDB item of a message body, or None when the body is not a valid voucher."""
    try:
        msg = json.loads(body)
    except ValueError:
        return None
    if not isinstance(msg, dict) or msg.get("v") != 1:
        return None
    if any(not isinstance(msg.get(k), str) or not msg[k].strip() for k in REQUIRED):
        return None
    recipient = msg.get("recipient")
    if not isinstance(recipient, dict) or recipient.get("kind") not in RECIPIENT_KINDS:
        return None
    if not isinstance(recipient.get("address"), str) or not recipient["address"].strip():
        return None
    try:
        if decimal.Decimal(msg["amount"]) <= 0:
            return None
    except decimal.InvalidOperation:
        return None
    item = {
        "voucher_id": {"S": msg["voucher_id"]},
        "created_at": {"S": msg["created_at"]},
        "recipient": {"S": recipient["address"].strip()},
        "recipient_kind": {"S": recipient["kind"]},
        "amount": {"N": msg["amount"]},
        "currency": {"S": msg["currency"]},
        "sender": {"S": msg["sender"]},
        "persisted_at": {"S": datetime.datetime.now(datetime.timezone.utc).isoformat()},
    }
    for key in ("note", "idempotency_key"):
        if isinstance(msg.get(key), str):
            item[key] = {"S": msg[key]}
    return item


class Consumer:
    def __init__(self, args):
        session = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        )
        config = Config(retries={"mode": "standard"})
        self.sqs = session.client("sqs", endpoint_url=args.endpoint, config=config)
        self.ddb = session.client("dynamodb", endpoint_url=args.endpoint, config=config)
        self.queue_url = self.sqs.get_queue_url(QueueName=args.queue)["QueueUrl"]
        self.table = args.table
        self.wait = args.wait
        self.requests = collections.Counter()
        self.persisted = 0

    def call(self, client, op, **kwargs):
        self.requests[f"{client.meta.service_model.endpoint_prefix}:{op}"] += 1
        method = "".join("_" + c.lower() if c.isupper() else c for c in op).lstrip("_")
        return getattr(client, method)(**kwargs)

    def receive(self, n):
        out = self.call(
            self.sqs,
            "ReceiveMessage",
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=n,
            WaitTimeSeconds=self.wait,
            MessageSystemAttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        return out.get("Messages", [])

    def batch(self, msgs):
        items = {}
        for m in msgs:
            item = item_of(m["Body"])
            if item is not None:
                items[item["voucher_id"]["S"]] = item
        pending = [{"PutRequest": {"Item": i}} for i in items.values()]
        while pending:
            out = self.call(self.ddb, "BatchWriteItem", RequestItems={self.table: pending})
            pending = out.get("UnprocessedItems", {}).get(self.table, [])
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(msgs)
        ]
        self.call(self.sqs, "DeleteMessageBatch", QueueUrl=self.queue_url, Entries=entries)
        self.persisted += len(items)

    def one_by_one(self, msgs):
        for m in msgs:
            item = item_of(m["Body"])
            if item is not None:
                self.call(self.ddb, "PutItem", TableName=self.table, Item=item)
                self.persisted += 1
            self.call(
                self.sqs, "DeleteMessage", QueueUrl=self.queue_url, ReceiptHandle=m["ReceiptHandle"]
            )

    def run(self, mode, expect):
        while self.persisted < expect:
            msgs = self.receive(1 if mode == "naive" else 10)
            if not msgs:
                continue
            if mode == "batch":
                self.batch(msgs)
            else:
                self.one_by_one(msgs)


def main():
    args = parse_args()
    consumer = Consumer(args)
    print(json.dumps({"event": "ready"}), flush=True)
    cpu0, wall0 = time.process_time(), time.monotonic()
    consumer.run(args.mode, args.expect)
    cpu, wall = time.process_time() - cpu0, time.monotonic() - wall0
    json.dump(
        {
            "mode": args.mode,
            "vouchers": consumer.persisted,
            "cpu_seconds": cpu,
            "wall_seconds": wall,
            "requests": dict(consumer.requests),
        },
        sys.stdout,
    )
    print(flush=True)


if __name__ == "__main__":
    main()
