"""The two apps bench/pages.py serves, each with infra/gunicorn.conf.py (bench/ on PYTHONPATH):

    gunicorn -c infra/gunicorn.conf.py 'pages_wsgi:hello()'        # the hello-world baseline
    gunicorn -c infra/gunicorn.conf.py 'pages_wsgi:shangliang()'   # shangliang.wsgi and a bare route

Factories, so that the hello-world workers never import shangliang themselves (the master's
on_starting check in the conf does, for both, and forked workers share those pages).
"""
from flask import Flask


def hello():
    app = Flask("hello")

    @app.get("/")
    def index():
        return "Hello, World!"

    return app


def shangliang():
    """The production app with `/t/<slug>/bench/bare`: the tenant resolved, the session and the
    memberships loaded, the permission checked, the lifecycle's commit and the security headers,
    then two bytes. What every signed-in tenant page pays before its own work; no template."""
    from shangliang.core.permissions import require
    from shangliang.wsgi import app

    @require("tenant.view")
    def bare():
        return "ok"

    app.add_url_rule("/t/<slug>/bench/bare", "bench_bare", bare)
    return app
