"""SQS: log files announced by notification messages (CloudTrail via SNS, S3 events, EventBridge).

A message is deleted only once every object it names is committed, skipped or quarantined (the
pipeline calls `committed`). While its objects wait, a heartbeat thread keeps extending its
visibility timeout. A message received `max_receives` times without success is recorded in
quarantine (as a pseudo-object) and left in the queue for its redrive policy; test messages are
deleted at once. Without `follow` the source stops when the queue is empty; with it, at SIGTERM.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from trailhouse.errors import ObjectReadError, SourceError
from trailhouse.model.notifications import NotificationError, TestMessage, parse_notification
from trailhouse.sources.base import ObjectRef
from trailhouse.sources.s3 import Downloads, StopOnSigterm, client, download, error_code, split_uri

log = logging.getLogger("trailhouse.sources")

_REGION_IN_HOST = re.compile(r"(?:^|\.)(?:sqs\.)?([a-z]{2}(?:-gov)?-[a-z]+-\d)\.(?:queue\.)?amazonaws")
QUARANTINE_PREFIX = "_sqs/"
_READY_TARGET = (
    30  # refs received ahead of the pipeline  # keys of pseudo-objects standing for poison messages
)


@dataclass
class _Message:
    receipt: str
    received: float  # monotonic time of the first receive in this process
    extended: float  # monotonic time of the last visibility extension
    pending: set[str] = field(default_factory=set)  # uris not yet committed
    poison: bool = False


def queue_region(url: str) -> str | None:
    """The region in a queue URL's host (sqs.us-west-2.amazonaws.com), if any."""
    host = url.split("://", 1)[-1].split("/", 1)[0]
    match = _REGION_IN_HOST.search(host)
    return match[1] if match else None


def resolve_queue(queue: str, region: str | None = None) -> tuple[str, str | None]:
    """(queue URL, region) of sqs://name or an https:// queue URL; SourceError if it does not exist."""
    if queue.startswith(("https://", "http://")):
        url, region = queue, queue_region(queue) or region
        try:
            client("sqs", region).get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        except (ClientError, BotoCoreError) as error:
            raise _no_queue(queue, error) from None
        return url, region
    name = queue.removeprefix("sqs://").strip("/")
    try:
        return str(client("sqs", region).get_queue_url(QueueName=name)["QueueUrl"]), region
    except (ClientError, BotoCoreError) as error:
        raise _no_queue(queue, error) from None


def _no_queue(queue: str, error: Exception) -> SourceError:
    return SourceError(
        f"Cannot open SQS queue '{queue}' ({error_code(error)}: {error})\n"
        "Check the queue name or URL, the region (AWS_REGION), sqs:GetQueueUrl/GetQueueAttributes "
        "permissions, or create it with 'trailhouse setup notifications --bucket B'."
    )


class SqsSource:
    """The objects announced on one SQS queue."""

    def __init__(
        self,
        queue: str,
        *,
        follow: bool = False,
        max_receives: int = 5,
        visibility_timeout: int = 120,
        wait_seconds: int = 5,
        flush_seconds: float = 3.0,
        backoff_cap: float = 120.0,
        region: str | None = None,
        s3_region: str | None = None,
        download_workers: int = 8,
        read_ahead_mb: int = 64,
        stop: threading.Event | None = None,
    ) -> None:
        self.url, self.region = resolve_queue(queue, region)
        self.name = self.url
        self.queue_name = self.url.rstrip("/").rsplit("/", 1)[-1]
        self.follow = follow
        self.max_receives = max(1, max_receives)
        self.visibility_timeout = max(2, visibility_timeout)
        self.wait_seconds = wait_seconds
        self.flush_seconds = flush_seconds
        self.backoff_cap = backoff_cap
        self.s3_region = s3_region
        self.stop = stop or threading.Event()
        self._sqs = client("sqs", self.region)
        attributes = self._sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["VisibilityTimeout"])
        self.queue_visibility = int(attributes["Attributes"].get("VisibilityTimeout", 30))
        self._lock = threading.Lock()
        self._messages: dict[str, _Message] = {}
        self._buffer: deque[ObjectRef] = deque()
        self._poison_reasons: dict[str, str] = {}
        self._downloads = Downloads(self._read_now, workers=download_workers, budget_mb=read_ahead_mb)
        self._failures = 0
        self._sigterm = StopOnSigterm(self.stop) if follow else None
        self._ready_changed = threading.Condition(self._lock)
        self._drained = False  # without --follow: an empty long poll found nothing more
        self._last_began = 0.0  # monotonic start of the last completed receive
        self._failure: SourceError | None = None
        self._receiver = threading.Thread(target=self._receive_forever, name="trailhouse-sqs-receive")
        self._receiver.daemon = True
        self._heartbeat = threading.Thread(target=self._extend_forever, name="trailhouse-sqs-heartbeat")
        self._heartbeat.daemon = True
        self._heartbeat.start()

    # -- the Source protocol -----------------------------------------------------------------
    def objects(self) -> Iterator[ObjectRef]:
        """Refs received by the receiver thread, which keeps a few receives ahead (so receiving
        overlaps reading, parsing and committing)."""
        if not self._receiver.is_alive() and not self.stop.is_set():
            self._receiver.start()
        while True:
            with self._ready_changed:
                while not self._buffer and not self.stop.is_set() and not self._drained:
                    self._ready_changed.wait(0.5)
                if self._failure is not None:
                    raise self._failure
                if not self._buffer:
                    return  # stopping (SIGTERM), or drained without --follow
                ref = self._buffer.popleft()
                self._ready_changed.notify_all()
            self._downloads.yielded(ref)
            yield ref

    def read(self, ref: ObjectRef) -> bytes:
        return self._downloads.take(ref)

    def committed(self, refs: Sequence[ObjectRef]) -> None:
        finished: list[tuple[str, _Message]] = []
        with self._lock:
            for ref in refs:
                message = self._messages.get(ref.token)
                if message is None:
                    continue
                message.pending.discard(ref.uri)
                if not message.pending:
                    finished.append((ref.token, self._messages.pop(ref.token)))
        self._delete([(mid, m.receipt) for mid, m in finished if not m.poison])
        # A poison message, now recorded, goes back under the queue's own timeout: its redrive
        # policy moves it to the dead-letter queue after enough receives.
        self._change_visibility([(mid, m.receipt) for mid, m in finished if m.poison], self.queue_visibility)

    def wants_flush(self) -> bool:
        """True when waiting objects should be committed now: they are getting old, or nothing
        else is arriving (the queue is momentarily empty), or the source is stopping."""
        with self._lock:
            waiting = [m.received for m in self._messages.values() if m.pending and not m.poison]
        if not waiting:
            return False
        if self.stop.is_set() or time.monotonic() - min(waiting) >= self.flush_seconds:
            return True
        asked = time.monotonic()
        with self._ready_changed:
            # Wait (briefly) for a receive begun after now: it tells whether more work is queued.
            while not self._buffer and self._last_began < asked and not self._drained:
                if self.stop.is_set() or time.monotonic() - asked > 3:
                    break
                self._ready_changed.wait(0.05)
            return not self._buffer

    def close(self) -> None:
        self.stop.set()
        if self._sigterm is not None:
            self._sigterm.restore()
        if self._receiver.is_alive():
            self._receiver.join(timeout=self.wait_seconds + 10)
        self._heartbeat.join(timeout=5)
        with self._lock:
            leftover = [(mid, m.receipt) for mid, m in self._messages.items() if not m.poison]
            self._messages.clear()
        self._release(leftover)
        self._downloads.close()

    # -- receiving -----------------------------------------------------------------------------
    def _receive_forever(self) -> None:
        """Keep about three receives of refs ready; long-poll only while holding nothing."""
        try:
            while not self.stop.is_set():
                with self._ready_changed:
                    while len(self._buffer) >= _READY_TARGET and not self.stop.is_set():
                        self._ready_changed.wait(0.5)
                with self._lock:
                    holding = any(m.pending for m in self._messages.values())
                # Holding objects (following): short polls, so an empty queue is seen at once and
                # the pipeline commits; without --follow one empty long poll means drained.
                wait = 1 if not self.follow else 0 if holding else self.wait_seconds
                began = time.monotonic()
                received = self._receive(wait)
                with self._ready_changed:
                    self._last_began = began
                    if received == 0 and not self.follow:
                        self._drained = True
                    self._ready_changed.notify_all()
                if self._drained:
                    return
                if received == 0 and holding:
                    self.stop.wait(0.1)
        except SourceError as error:
            with self._ready_changed:
                self._failure = error
                self._drained = True
                self._ready_changed.notify_all()

    def _receive(self, wait: int) -> int | None:
        """Receive up to 10 messages into the buffer; their count, or None after a failed poll."""
        try:
            response = self._sqs.receive_message(
                QueueUrl=self.url,
                MaxNumberOfMessages=10,
                WaitTimeSeconds=wait,
                VisibilityTimeout=self.visibility_timeout,
                MessageSystemAttributeNames=["ApproximateReceiveCount", "SentTimestamp"],
            )
        except (ClientError, BotoCoreError) as error:
            self._failures += 1
            delay = min(self.backoff_cap, 2.0 ** (self._failures - 1))
            log.warning(
                "failed to poll SQS queue; waiting %ds before re-attempting (%s: %s)",
                delay,
                error_code(error),
                error,
            )
            if not self.follow and self._failures >= 4:
                raise SourceError(
                    f"Cannot poll SQS queue '{self.url}' ({error_code(error)}: {error})\n"
                    "Check sqs:ReceiveMessage permission, the region and AWS_ENDPOINT_URL."
                ) from None
            self.stop.wait(delay)
            return None
        self._failures = 0
        messages = response.get("Messages", [])
        if messages:
            log.info("Polled %d sqs messages from %s", len(messages), self.url)
        for message in messages:
            self._admit(message)
        return len(messages)

    def _admit(self, message: dict[str, Any]) -> None:
        mid, receipt, body = message["MessageId"], message["ReceiptHandle"], message.get("Body", "")
        receives = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
        now = time.monotonic()
        with self._lock:
            known = self._messages.get(mid)
            if known is not None:  # redelivered while we still hold it: keep the newest handle
                known.receipt, known.extended = receipt, now
                return
        try:
            parsed: list[Any] | TestMessage | NotificationError = parse_notification(body)
        except NotificationError as error:
            parsed = error
        if receives >= self.max_receives and not isinstance(parsed, TestMessage):
            self._quarantine(mid, receipt, receives, parsed, body, now)
        elif isinstance(parsed, NotificationError):
            log.warning("SQS message %s is not a notification (%s); receive %d", mid, parsed, receives)
            self._release([(mid, receipt)])  # back at once, so it reaches max_receives quickly
        elif isinstance(parsed, TestMessage) or not parsed:
            log.info("Ignored SQS message %s (%s)", mid, getattr(parsed, "reason", "no new objects"))
            self._delete([(mid, receipt)])
        else:
            refs = {}
            for notice in parsed:
                uri = f"s3://{notice.bucket}/{notice.key}"
                refs[uri] = ObjectRef(uri, notice.key, notice.size, notice.etag.strip('"'), token=mid)
            for ref in refs.values():
                self._downloads.prefetch(ref)
            with self._ready_changed:
                self._messages[mid] = _Message(receipt, now, now, set(refs))
                self._buffer.extend(refs.values())
                self._ready_changed.notify_all()

    def _quarantine(
        self, mid: str, receipt: str, receives: int, parsed: object, body: str, now: float
    ) -> None:
        problem = str(parsed) if isinstance(parsed, NotificationError) else "never committed"
        if isinstance(parsed, list) and parsed:
            problem += "; it names " + ", ".join(f"s3://{o.bucket}/{o.key}" for o in parsed[:10])
        reason = (
            f"SQS message {mid} from {self.url} received {receives} times without success ({problem}); "
            f"left to the queue's redrive policy. Body: {body[:1000]}"
        )
        key = f"{QUARANTINE_PREFIX}{self.queue_name}/{mid}.json"
        uri = f"sqs://{self.queue_name}/{mid}"
        log.warning("Quarantined SQS message %s after %d receives", mid, receives)
        with self._ready_changed:
            self._messages[mid] = _Message(receipt, now, now, {uri}, poison=True)
            self._poison_reasons[uri] = reason
            self._buffer.append(ObjectRef(uri, key, len(body), token=mid))
            self._ready_changed.notify_all()

    # -- reading -------------------------------------------------------------------------------
    def _read_now(self, ref: ObjectRef) -> bytes:
        reason = self._poison_reasons.get(ref.uri)
        if reason is not None:
            raise ObjectReadError(reason)
        bucket, key = split_uri(ref.uri)
        return download(bucket, key, self.s3_region)

    # -- acknowledging and extending --------------------------------------------------------
    def _delete(self, entries: list[tuple[str, str]]) -> None:
        for start in range(0, len(entries), 10):
            chunk = entries[start : start + 10]
            batch = [{"Id": str(i), "ReceiptHandle": receipt} for i, (_, receipt) in enumerate(chunk)]
            try:
                response = self._sqs.delete_message_batch(QueueUrl=self.url, Entries=batch)
            except (ClientError, BotoCoreError) as error:
                log.warning("Could not delete %d SQS messages (%s); they will come back", len(chunk), error)
                continue
            for failure in response.get("Failed", []):
                log.warning("Could not delete an SQS message: %s", failure.get("Message", failure))

    def _release(self, entries: list[tuple[str, str]]) -> None:
        """Make messages visible again now (another worker, or a later run, takes them)."""
        self._change_visibility(entries, 0)

    def _change_visibility(self, entries: list[tuple[str, str]], seconds: int) -> None:
        for start in range(0, len(entries), 10):
            chunk = entries[start : start + 10]
            batch = [
                {"Id": str(i), "ReceiptHandle": receipt, "VisibilityTimeout": seconds}
                for i, (_, receipt) in enumerate(chunk)
            ]
            try:
                self._sqs.change_message_visibility_batch(QueueUrl=self.url, Entries=batch)
            except (ClientError, BotoCoreError) as error:
                log.warning("Could not change the visibility of %d SQS messages (%s)", len(chunk), error)

    def _extend_forever(self) -> None:
        """Keep held messages invisible while their objects are read, parsed and committed."""
        period = max(1.0, self.visibility_timeout / 3)
        while not self.stop.wait(min(period / 2, 5.0)):
            now = time.monotonic()
            with self._lock:
                due = [(mid, m) for mid, m in self._messages.items() if now - m.extended >= period]
                for _, message in due:
                    message.extended = now
                entries = [(mid, m.receipt) for mid, m in due]
            if entries:
                self._change_visibility(entries, self.visibility_timeout)
