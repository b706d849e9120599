"""The part of a contains-search asked of a trigram index (channel_manager.trigram_search)."""

import pytest
from django.db import connection

from channel_manager.trigram_search import column_sample, contains_q, trigram_piece
from listings.models import Product
from tests.listings.factories import ProductFactory

# Names shaped like a large catalog's: one word in every name, a number in one name each, a few common words.
SAMPLE = [
    f"benchmark product {number} {word}" for number, word in zip(range(100, 200), ["mug", "lamp"] * 50, strict=True)
]


@pytest.mark.parametrize(
    ("search", "piece"),
    [
        ("product 150", "150"),  # every name holds "product": its number alone is asked, then the whole checked
        ("Product 1500000 ", "1500000"),  # a number no sampled name holds: the same
        ("150 mug", "150"),  # the rarer of two words
        ("mug", "mug"),  # one word: itself
        ("lamp 1", "lamp 1"),  # "1" is too short for a trigram and "lamp" costs more than the whole
        ("ab cd", "ab cd"),  # no word of three characters
        ("zebra 150", "zebra"),  # a word no sampled value holds: the whole would also read the number's lists
        ("mug lamp", "mug lamp"),  # two common words, rare together: the whole (either word re-checks half)
    ],
)
def test_the_piece_is_the_word_whose_trigrams_are_rarest_in_the_sample(search, piece):
    assert trigram_piece(search.strip(), SAMPLE) == piece.strip()


def test_without_a_sample_the_whole_search_is_asked():
    assert trigram_piece("product 150", []) == "product 150"


def test_a_piece_must_be_part_of_the_search():
    with pytest.raises(ValueError, match="is not a part of"):
        contains_q(Product, "name", "product 150", piece="151")


@pytest.mark.django_db
def test_the_sample_is_postgresqls_statistics_of_the_column():
    # given products, analysed on PostgreSQL (what autovacuum does as a table grows)
    for number in range(30):
        ProductFactory(name=f"Benchmark Product {number}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE listings_product")
    # when
    sample = column_sample(Product, "name")
    # then every value is there, lowercased, on PostgreSQL (30 distinct values: all in the histogram); no sample
    # elsewhere
    if connection.vendor == "postgresql":
        assert sorted(sample) == sorted(f"benchmark product {number}" for number in range(30))
    else:
        assert sample == []
