"""The shared CSV cell writer: what a spreadsheet would run as a formula is written as text, and read back
unchanged."""

import csv
import io

import pytest

from channel_manager.csv_files import csv_cell, csv_cell_read, csv_response

FORMULAS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1", '=HYPERLINK("http://evil.example","x")']


@pytest.mark.parametrize("text", FORMULAS)
def test_a_cell_a_spreadsheet_would_run_gets_a_quote_in_front(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("value", ["Mug", "9.99", "", "a=b", "1-2", "'quoted'", 42, None])
def test_other_cells_are_written_as_they_are(value):
    assert csv_cell(value) == ("" if value is None else str(value))


@pytest.mark.parametrize("text", [*FORMULAS, "Mug", "'=1", "''+2", "'", "''", "-", "'plain"])
def test_reading_a_written_cell_gives_the_value_back(text):
    assert csv_cell_read(csv_cell(text)) == text


def test_a_cell_that_already_has_quotes_before_a_trigger_gets_one_more():
    assert csv_cell("'=1") == "''=1"
    assert csv_cell_read("''=1") == "'=1"
    assert csv_cell_read("'plain") == "'plain"  # a quote the writer did not add stays


def test_the_response_streams_every_cell_through_the_writer():
    response = csv_response(filename="x.csv", rows=[["name", "note"], ["=1+1", "ok"], ["@x", None]])
    body = b"".join(response.streaming_content).decode()
    assert response["Content-Disposition"] == 'attachment; filename="x.csv"'
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert list(csv.reader(io.StringIO(body))) == [["name", "note"], ["'=1+1", "ok"], ["'@x", ""]]
