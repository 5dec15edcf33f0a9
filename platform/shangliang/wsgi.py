"""gunicorn entry point: `gunicorn -c infra/gunicorn.conf.py shangliang.wsgi:app`."""
from .cli import app_or_exit

app = app_or_exit()
