"""Looking into brokers from tests: dead letters, and removing what a test left behind."""
from __future__ import annotations

import dramatiq
from dramatiq.brokers.stub import StubBroker
from dramatiq.common import dq_name, xq_name
from dramatiq.message import Message


class Recorder(dramatiq.Middleware):
    """Sees every message a broker is handed and every message its workers finish."""

    def __init__(self):
        self.sent: list[Message] = []  # enqueued for immediate delivery (not retries' delayed copies)
        self.processed: list[tuple[Message, BaseException | None]] = []

    def after_enqueue(self, broker, message, delay):
        if delay is None and "retries" not in message.options:
            self.sent.append(message)

    def after_process_message(self, broker, message, *, result=None, exception=None):
        self.processed.append((message, exception))


def dead_letters(broker, queue: str) -> list[Message]:
    kind = type(broker).__name__
    if isinstance(broker, StubBroker):
        return list(broker.dead_letters_by_queue[queue])  # MessageProxy objects: .args, .options
    if kind == "RedisBroker":
        return [Message.decode(raw) for raw in broker.client.hvals(f"{broker.namespace}:{xq_name(queue)}.msgs")]
    if kind == "RabbitmqBroker":
        import pika

        conn = pika.BlockingConnection(broker.parameters)
        try:
            ch = conn.channel()
            ch.queue_declare(xq_name(queue), passive=True)
            found = []
            while True:  # look, then put back: nack with requeue keeps them in the dead-letter queue
                method, _props, body = ch.basic_get(xq_name(queue), auto_ack=False)
                if method is None:
                    break
                found.append((method.delivery_tag, Message.decode(body)))
            for tag, _ in found:
                ch.basic_nack(tag, requeue=True)
            return [m for _, m in found]
        except pika.exceptions.ChannelClosedByBroker:
            return []
        finally:
            conn.close()
    raise TypeError(kind)


def remove_queues(broker, queue: str) -> None:
    """Delete every key or queue of a test's own namespace / queue name."""
    kind = type(broker).__name__
    if kind == "RedisBroker":
        for key in broker.client.scan_iter(f"{broker.namespace}:*"):
            broker.client.delete(key)
    elif kind == "RabbitmqBroker":
        import pika

        conn = pika.BlockingConnection(broker.parameters)
        try:
            ch = conn.channel()
            for name in (queue, dq_name(queue), xq_name(queue)):
                ch.queue_delete(name)
        finally:
            conn.close()
        broker.close()
