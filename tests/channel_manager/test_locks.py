"""The one lock helper: taken once, released only by its owner, expiring by itself."""

import time

from django.core.cache import cache

from channel_manager.locks import cache_lock, lock_acquire, lock_release


def test_a_held_lock_is_refused_to_others_and_released_on_exit():
    # given
    with cache_lock("test:locks:a", timeout=30) as held:
        # when
        with cache_lock("test:locks:a", timeout=30) as second:
            # then
            assert (held, second) == (True, False)
        assert lock_acquire("test:locks:a", 30) is None  # the refused one did not release ours
    owner = lock_acquire("test:locks:a", 30)
    assert owner is not None
    assert lock_release("test:locks:a", owner) is True


def test_a_holder_that_outlived_its_lock_does_not_release_the_next_owners():
    # given: the first holder's lock expired and another worker took it
    first = lock_acquire("test:locks:b", 1)
    cache.delete("test:locks:b")  # as if it expired
    second = lock_acquire("test:locks:b", 30)
    assert first is not None
    assert second not in (None, first)
    # when
    released = lock_release("test:locks:b", first)
    # then
    assert released is False
    assert lock_acquire("test:locks:b", 30) is None
    assert lock_release("test:locks:b", second) is True


def test_a_lock_expires_by_itself():
    assert lock_acquire("test:locks:c", 1) is not None
    time.sleep(1.2)
    assert lock_acquire("test:locks:c", 1) is not None
