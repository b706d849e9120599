"""Translate one REDIS_URL into the spellings Django's cache and Celery's broker expect.

`unix:///path/redis.sock?db=2` is how the embedded server is named; Django's Redis cache (redis-py)
takes it as is; kombu wants `redis+socket:///path/redis.sock?virtual_host=2`.
"""

from urllib.parse import parse_qs, urlsplit


def celery_broker_url(redis_url: str) -> str:
    parts = urlsplit(redis_url)
    if parts.scheme != "unix":
        return redis_url
    database = parse_qs(parts.query).get("db", ["0"])[0]
    return f"redis+socket://{parts.path}?virtual_host={database}"
