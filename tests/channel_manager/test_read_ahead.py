"""`polling.read_ahead`: a Walmart listing read in a thread of its own, ahead of the caller."""

import threading
import time
from contextlib import closing

import pytest

from channel_manager import polling
from channel_manager.polling import read_ahead


class Listing:
    """Items 0..count-1; records the thread that read them and whether reading went on after `stop_at`."""

    def __init__(self, count: int, *, fail_at: int | None = None) -> None:
        self.count, self.fail_at = count, fail_at
        self.read: list[int] = []
        self.threads: set[str] = set()
        self.closed = threading.Event()

    def __iter__(self):
        try:
            for item in range(self.count):
                if item == self.fail_at:
                    raise ConnectionError(f"page of item {item} lost")
                self.threads.add(threading.current_thread().name)
                self.read.append(item)
                yield item
        finally:
            self.closed.set()


@pytest.mark.parametrize("depth", [0, 1, 3])
def test_every_item_comes_once_in_order_in_chunks(depth):
    # given: 2,501 items
    listing = Listing(2501)
    # when: read ahead in chunks of 1,000
    chunks = list(read_ahead(listing, chunk=1000, depth=depth))
    # then: three chunks, the items in order, each once
    assert [len(chunk) for chunk in chunks] == [1000, 1000, 501]
    assert [item for chunk in chunks for item in chunk] == list(range(2501))
    # and: read by a thread of its own when depth > 0, by the caller's otherwise
    expected = {threading.current_thread().name} if depth == 0 else {"walmart-read-ahead"}
    assert listing.threads == expected


def test_an_empty_listing_yields_nothing():
    assert list(read_ahead(Listing(0), chunk=10)) == []


@pytest.mark.parametrize("depth", [0, 1])
def test_a_reading_error_is_raised_after_the_chunks_read_before_it(depth):
    # given: the listing fails while reading item 25
    listing = Listing(100, fail_at=25)
    received: list[list[int]] = []

    def consume() -> None:
        for chunk in read_ahead(listing, chunk=10, depth=depth):
            received.append(chunk)

    # when / then: the error reaches the caller ...
    with pytest.raises(ConnectionError, match="page of item 25 lost"):
        consume()
    # ... after the two whole chunks before it (the partial third is not handed over)
    assert received == [list(range(10)), list(range(10, 20))]


def test_a_caller_that_stops_stops_the_reader():
    # given: a long listing read ahead by one chunk
    listing = Listing(10_000)

    def write_fails() -> None:
        with closing(read_ahead(listing, chunk=10, depth=1)) as chunks:
            for _chunk in chunks:
                raise RuntimeError("the write failed")

    # when: the caller takes one chunk and fails
    with pytest.raises(RuntimeError, match="the write failed"):
        write_fails()
    # then: the reader stopped within the chunks it may hold ahead (one queued, one being filled), and is done
    assert listing.closed.is_set()
    assert len(listing.read) <= 10 + 10 + 11
    assert not any(thread.name == "walmart-read-ahead" for thread in threading.enumerate())


def test_a_caller_that_stops_does_not_wait_for_a_reader_inside_a_long_call():
    # given: a listing whose second item takes long to come (a page being fetched, retried)
    release = threading.Event()

    def slow_listing():
        yield 1
        release.wait(30)
        yield 2

    def write_fails() -> None:
        with closing(read_ahead(slow_listing(), chunk=1, depth=1)) as chunks:
            for _chunk in chunks:
                raise RuntimeError("the write failed")

    # when: the caller fails while the reader waits for the second item
    started = time.monotonic()
    with pytest.raises(RuntimeError, match="the write failed"):
        write_fails()
    # then: the caller's error comes after the bounded wait, not after the reader's call
    assert time.monotonic() - started < polling.READ_AHEAD_JOIN_SECONDS + 1
    # and: the reader ends as soon as its call returns, without handing anything over
    release.set()
    for thread in threading.enumerate():
        if thread.name == "walmart-read-ahead":
            thread.join(5)
    assert not any(thread.name == "walmart-read-ahead" for thread in threading.enumerate())
