"""Integrations with other systems of the street: outbound webhooks (a subscribed URL is posted
each event it chose, signed, from the outbox; see webhooks in README.md).

    events.py     the registry of event types, and `emit`, which turns an event into deliveries
    sources.py    where events come from: the rows a flush writes (the topic log, transfers, meetings)
    signing.py    the signature a receiver checks, and the secret kept encrypted at rest
    targets.py    which URLs may be posted to (http/https, no private address unless allowed)
    delivery.py   one attempt: claim, POST, record; the retry schedule and dead letters
    operations.py what an administrator does: subscribe, pause, delete, re-send
"""
