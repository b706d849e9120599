"""The in-process group commit (channel_manager.gather): items handed in by any thread are written a batch per key by
the gatherer's own thread, in the order handed in; with gathering off each is written at once by its caller."""

import threading

from channel_manager.gather import Gatherer

SAFETY_SECONDS = 30  # only bounds a broken test; nothing is timed


class Recorder:
    """A `write` that records each batch and the thread that wrote it; `expected` batches set `done`."""

    def __init__(self, expected: int = 1, *, failing: int = 0) -> None:
        self.batches: list[tuple[str, list[int]]] = []
        self.threads: list[str] = []
        self.expected, self.failing = expected, failing
        self.done = threading.Event()

    def __call__(self, key: str, items: list[int]) -> None:
        self.batches.append((key, list(items)))
        self.threads.append(threading.current_thread().name)
        if len(self.batches) >= self.expected:
            self.done.set()
        if len(self.batches) <= self.failing:
            raise ConnectionError("database gone")


def test_with_gathering_off_the_caller_writes_its_item_at_once():
    write = Recorder()
    # when
    Gatherer(write, seconds=lambda: 0).submit("store-1", 1)
    # then
    assert write.batches == [("store-1", [1])]
    assert write.threads == [threading.current_thread().name]


def test_items_of_a_key_are_written_together_once_the_batch_is_full_by_the_gatherers_thread():
    # given: a key's first item may wait a minute for others, a batch holds three
    write = Recorder()
    gatherer = Gatherer(write, seconds=lambda: 60.0, most=3)
    # when: three items of the store and one of another store, handed in by this thread
    for key, item in (("store-1", 1), ("store-2", 9), ("store-1", 2), ("store-1", 3)):
        gatherer.submit(key, item)
    # then: the full batch is written at once, in order, by the gatherer's thread; the other store's item waits on
    assert write.done.wait(SAFETY_SECONDS)
    assert write.batches == [("store-1", [1, 2, 3])]
    assert write.threads == ["gatherer"]


def test_a_lone_item_is_written_once_its_wait_is_over_and_what_exceeds_a_batch_follows():
    # given: five items of one store handed in at once, a batch holds two, the wait is short
    write = Recorder(expected=3)
    gatherer = Gatherer(write, seconds=lambda: 0.01, most=2)
    # when
    for item in range(1, 6):
        gatherer.submit("store-1", item)
    # then
    assert write.done.wait(SAFETY_SECONDS)
    assert [items for _key, items in write.batches] == [[1, 2], [3, 4], [5]]


def test_a_failed_write_drops_its_batch_and_the_thread_writes_the_next_one():
    # given: the first write fails
    write = Recorder(expected=2, failing=1)
    gatherer = Gatherer(write, seconds=lambda: 0.01, most=1)
    # when
    gatherer.submit("store-1", 1)
    gatherer.submit("store-1", 2)
    # then: the failed batch is not written again; the next one is
    assert write.done.wait(SAFETY_SECONDS)
    assert write.batches == [("store-1", [1]), ("store-1", [2])]
