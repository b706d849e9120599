"""One lock helper on the shared cache (Redis): a key set only when absent, holding a random owner token,
expiring by itself, released only by its owner.

    with cache_lock(f"orders:poll:{store_pk}", timeout=1800) as held:
        if not held:
            return  # another worker holds it
        ...

Acquire is Redis `SET NX EX` (Django's `cache.add`). Release deletes the key only while it still holds
our token, in one atomic step on Redis (a short script), so a holder that outlived its lock never drops
the lock another worker has taken since. A lock is a latency guard, never the record of work: whatever
it protects must stay correct when the lock expires under a slow holder.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache

_RELEASE_SCRIPT = """
if redis.call('get', KEYS[1]) == ARGV[1] then
    return redis.call('del', KEYS[1])
end
return 0
"""


def lock_acquire(key: str, timeout: float) -> str | None:
    """Take the lock `key` for `timeout` seconds (at least 1). Returns the owner token, or None when
    someone holds it."""
    owner = secrets.token_hex(16)
    if cache.add(key, owner, timeout=max(1, math.ceil(timeout))):
        return owner
    return None


def lock_release(key: str, owner: str) -> bool:
    """Release the lock `key` if it still holds `owner`'s token. Returns whether it was released."""
    backend = caches["default"]
    if isinstance(backend, RedisCache):
        # Compared as stored: Django's Redis cache writes values through its serializer (a str is pickled).
        client: Any = backend._cache  # Django's RedisCacheClient: its serializer and connection
        stored_form = client._serializer.dumps(owner)
        return bool(
            client.get_client(key, write=True).eval(_RELEASE_SCRIPT, 1, backend.make_and_validate_key(key), stored_form)
        )
    # Another cache backend (none in this project's settings): compare, then delete.
    if cache.get(key) == owner:
        return bool(cache.delete(key))
    return False


@contextmanager
def cache_lock(key: str, timeout: float) -> Iterator[bool]:
    """Hold the lock `key` (at most `timeout` seconds) for the block; yields whether it was acquired. The
    block runs either way: it must return at once when it got False. Released on exit, if still ours."""
    owner = lock_acquire(key, timeout)
    try:
        yield owner is not None
    finally:
        if owner is not None:
            lock_release(key, owner)
