"""A contains-search (`field__icontains`) asked of a pg_trgm GIN index so that its cost follows the rows it finds.

The index answers `UPPER(field) LIKE UPPER('%term%')` by reading the posting list of every trigram of the term
and intersecting them. A trigram found in nearly every row (the "pro", "rod", ... of a word every product name
holds) costs a posting list of a million entries, even when the whole term matches one row: the Listings tab's
"product 500000" read 2,064 index pages (20-85 ms) to find 112 candidates. Asked for one of the term's rarer words
("500000") the index reads 10 pages; every row it yields is then checked for the whole term, so the rows found
are exactly those of `field__icontains=term`.

Which word is rarer is judged on PostgreSQL's own statistics of the column (the values ANALYZE keeps: its most
common values and histogram bounds, some 100-200 values drawn across the table): a trigram's share of the sample
stands for its posting list's share of the table, a word's share for the rows it makes the search re-check. Other
databases, and a column not yet analysed, search for the whole term as before."""

from __future__ import annotations

import re

from django.core.cache import cache
from django.db import connections
from django.db.models import Model, Q, Value
from django.db.models.functions import StrIndex, Upper
from django.db.models.lookups import GreaterThan

from channel_manager.columns import column_name

# How long a column's sample is reused (it changes only when ANALYZE runs; autovacuum analyses a table after a
# tenth of it changed).
SAMPLE_SECONDS = 600
# A row re-checked costs about as much as this many posting-list entries read (a heap row fetched and its text
# compared, against an entry decoded from a compressed list): 100 re-checks per row of the table.
RECHECK_WEIGHT = 100
# A word gives the index terms only from this many characters: a shorter one has no trigram inside it, and a LIKE
# with no trigram reads the whole index.
WORD_MIN_LENGTH = 3
_WORD = re.compile(r"[^\W_]+")  # pg_trgm's words: runs of letters and digits


def column_sample(model: type[Model], field_name: str) -> list[str]:
    """The values PostgreSQL's statistics hold for the column (most common values, then histogram bounds),
    lowercased; cached SAMPLE_SECONDS. Empty on other databases and before the table's first ANALYZE."""
    database = model._default_manager.db
    connection = connections[database]
    if connection.vendor != "postgresql":
        return []
    table = model._meta.db_table
    column = column_name(model._meta.get_field(field_name))
    key = f"trigram-search:sample:{database}:{table}.{column}"
    sample = cache.get(key)
    if sample is None:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT most_common_vals::text::text[], histogram_bounds::text::text[] FROM pg_stats "
                "WHERE schemaname = current_schema() AND tablename = %s AND attname = %s",
                [table, column],
            )
            row = cursor.fetchone()
        sample = [value.lower() for values in (row or ()) for value in (values or ())]
        cache.set(key, sample, SAMPLE_SECONDS)
    return sample


def _trigrams(text: str) -> set[str]:
    """The trigrams inside the words of `text` (lowercased), as pg_trgm extracts them from a '%...%' pattern
    (the blank-padded ones at a word's edges left out)."""
    return {word[at : at + 3] for word in _WORD.findall(text.lower()) for at in range(len(word) - 2)}


def trigram_piece(search: str, sample: list[str]) -> str:
    """The part of `search` to ask the trigram index for: `search` itself, or one of its words when the sample
    says that word costs less: a cost is the sample's share of each trigram looked up (posting lists read),
    plus RECHECK_WEIGHT times its share of the part itself (rows re-checked). Ties keep `search`, then the
    longer word. Every row holding `search` holds each of its words, so the index's rows for a word include
    all of the search's."""
    if not sample:
        return search
    size = len(sample)

    def share(text: str) -> float:
        return sum(text in value for value in sample) / size

    def cost(part: str) -> float:
        return sum(share(trigram) for trigram in _trigrams(part)) + RECHECK_WEIGHT * share(part.lower())

    best, best_cost = search, cost(search)
    words = sorted(
        {word for word in _WORD.findall(search) if len(word) >= WORD_MIN_LENGTH}, key=lambda word: (-len(word), word)
    )
    for word in words:
        word_cost = cost(word)
        if word_cost < best_cost:
            best, best_cost = word, word_cost
    return best


def contains_q(model: type[Model], field_name: str, search: str, *, piece: str | None = None) -> Q:
    """`field__icontains=search`, written for the column's trigram index: when `piece` (by default
    trigram_piece on the column's sample; ValueError if it is not a part of `search`) is not the whole search,
    the index is asked for the piece and each row found is checked for the whole of `search` (a position test,
    which the index does not serve)."""
    piece = trigram_piece(search, column_sample(model, field_name)) if piece is None else piece
    if piece not in search:
        raise ValueError(f"{piece!r} is not a part of {search!r}")
    if piece == search:
        return Q(**{f"{field_name}__icontains": search})
    whole = GreaterThan(StrIndex(Upper(field_name), Upper(Value(search))), 0)
    return Q(**{f"{field_name}__icontains": piece}) & Q(whole)
