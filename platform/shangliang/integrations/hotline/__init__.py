"""12345 work orders (工单) in and out: a county's hotline platform posts its orders here, signed;
each lands at the intake step of the street its address names (or in the county's queue), and
every change the hotline cares about goes back to it through the webhooks of those streets.

    models.py     the county's hotline account, its orders, the signatures already seen
    orders.py     an order's fields, checked; the order kept (new, updated, unchanged)
    routing.py    which street an address names: street, community and grid names of the county
    intake.py     an order made a topic of a street, an update applied to it, the queue assigned
    accounts.py   the account: created, its secret rotated, its callback URL, disabled
    callbacks.py  the status events (受理, 转办, 答复, 待回访, 评价, 办结) and the streets' subscriptions
    visits.py     the 回访 result, recorded through the residents' own rating
    inbound.py    the signed endpoints under /api/v1/t/<county>/hotline/
    views.py      the county's page: the account and the queue
"""
