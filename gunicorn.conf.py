"""gunicorn's settings file (gunicorn reads ./gunicorn.conf.py from its working directory: /app in the image).
Command-line options still apply on top of it (the Dockerfile's bind, workers and access log)."""


def post_worker_init(worker) -> None:
    """Once a worker has forked and loaded the application (channel_manager.wsgi, already warmed up), open
    its database and cache connections before it accepts a request (channel_manager.warmup)."""
    from channel_manager.warmup import worker_warm_up

    worker_warm_up()
