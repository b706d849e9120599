"""Catalog import: a CSV or JSON Lines file applied to the catalog, set-based, in chunks of rows.

- Reading and checking: the file is streamed (`listings.catalog_io`). A CSV chunk is checked a column at a
  time (`product_columns_clean`: one precompiled pattern mapped over each column, the field's cleaner only
  for the cells of an unusual shape); a JSON Lines row, whose keys vary, by `product_fields_clean`. Both
  decide as `product_fields_clean`, the one judge of product values shared with the form and admin. This
  runs in a background thread, a chunk ahead of the database work, so the two overlap (the thread never
  touches the database; it hands over lists of checked rows through a bounded queue).
- Applying a chunk, in one transaction: its good rows are staged in a temporary table (COPY on PostgreSQL,
  one executemany elsewhere), its bad rows in another, with their row number, field and message. Then a
  few statements keyed on SKU, whatever the number of rows: a SKU already seen in the file, or a new
  product missing a required field, becomes a row error; the existing products are compared with the
  staged values (on PostgreSQL the ones that differ are then locked, in id order, and compared again under
  the lock, so the quantities the stock movements start from are exact; unchanged products are never
  locked nor written); only those that differ are updated (one UPDATE ... FROM); new products are inserted
  with their final quantity (one INSERT ... SELECT). The quantity changes are gathered in a temporary table
  (product, before, after) and announced with `listings.signals.product_quantities_set` as a
  `QuantityChangesInTable` (the inventory app writes their stock movements with one INSERT ... SELECT from
  it), the other changes with `products_changed` (the sync engine nudges its planners once, after commit),
  each once per chunk. The chunk's row errors and the job's counters are written in the same transaction.
  The joins with the catalog and the SKUs seen so far walk their indexes (nested loops), so a chunk costs
  the same at a million products as at a thousand.

So a chunk is all or nothing, the job's progress shows chunk by chunk, and no product stays locked longer
than its chunk takes (order intake moving stock waits a fraction of a second, not the whole import). A
file that turns out unreadable midway (not UTF-8 further down) keeps the chunks before it; running an
import again is safe (products are matched on SKU; unchanged rows are counted as such and not written).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import itertools
import logging
import operator
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from listings.catalog_io import (
    CSV_COLUMNS,
    FIELDS_REQUIRED_FOR_NEW,
    CatalogFileInvalid,
    FieldError,
    SourceRow,
    csv_records,
    jsonl_rows,
    product_columns_clean,
    product_fields_clean,
)
from listings.models import ImportJob, ImportRowError, Product
from listings.signals import (
    QuantityChange,
    QuantityChangesInTable,
    product_quantities_set_send,
    products_changed_send,
)

logger = logging.getLogger(__name__)

CHUNK_ROWS = 5000  # rows checked, then applied in one transaction, at a time
STAGE = "catalog_import_stage"  # the chunk's good rows
STAGE_ERRORS = "catalog_import_stage_error"  # the chunk's bad rows
MATCH = "catalog_import_match"  # the chunk's rows whose SKU is in the catalog, with that product as it was
SEEN = "catalog_import_seen"  # every SKU of a good row so far, with that row's number
CHANGES = "catalog_import_quantity_change"  # the chunk's quantity changes: product_id, quantity_before, quantity_after
TEMP_BUFFERS = "128MB"  # the importing connection's memory for its temporary tables (`_temp_buffers_raise`)

# Every product field of the file format, each with its bit in a staged row's `given` mask (the fields the row
# sets: a CSV row sets its header's columns, a JSON Lines row its own keys), and the value a new product
# takes when the file leaves the field out.
FIELDS = CSV_COLUMNS[1:]
BIT = {name: 1 << position for position, name in enumerate(FIELDS)}
ALL_FIELDS = (1 << len(FIELDS)) - 1
NEW_PRODUCT_DEFAULTS = {name: "" for name in FIELDS} | {"price": None, "quantity": 0, "shipping_weight": None}
STAGE_COLUMNS = ("row_number", "sku", "given", *FIELDS)
# The chunk's products that differ from their row: (id, mask of the fields that differ, quantity before, after).
CHANGED_ROWS = (
    f"SELECT m.product_id, m.changed, m.quantity_before, s.quantity FROM {MATCH} m "  # noqa: S608
    f"JOIN {STAGE} s ON s.row_number = m.row_number WHERE m.changed <> 0"
)
ERROR_COLUMNS = ("row_number", "position", "sku", "field", "message")


@dataclass
class _Chunk:
    """Checked rows: `good` as staged tuples (STAGE_COLUMNS), `errors` as ERROR_COLUMNS tuples."""

    good: list[tuple] = field(default_factory=list)
    errors: list[tuple] = field(default_factory=list)
    rows: int = 0
    given_any: int = 0  # the fields some good row sets
    given_all: int = ALL_FIELDS  # the fields every good row sets
    bytes_read: int = 0
    skus: set[str] = field(default_factory=set)
    repeats: bool = False  # a SKU comes twice among the good rows


@dataclass
class _Counts:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rows_with_errors: int = 0
    written: set[str] = field(default_factory=set)  # the temporary tables the chunk wrote


def catalog_import_run(*, job: ImportJob, batch_size: int = CHUNK_ROWS, progress: Callable | None = None):
    """Run an import (see the module docstring): every bad row is reported (row number, SKU, field, message)
    and the good ones are imported, `batch_size` rows per transaction.

    Safe to re-run: a re-run starts the job's counters and errors afresh and upserts on the unique SKU. A
    file that cannot be read as a whole (bad header, not UTF-8) marks the job FAILED with the reason; the
    chunks applied before a failure further down are kept. `progress(job_pk)` is called after each chunk.
    """
    ImportJob.objects.filter(pk=job.pk).update(
        status=ImportJob.Status.RUNNING,
        started_at=timezone.now(),
        finished_at=None,
        bytes_read=0,
        rows_processed=0,
        created_count=0,
        updated_count=0,
        unchanged_count=0,
        error_count=0,
        failure="",
    )
    ImportRowError.objects.filter(job=job).delete()
    actor = job.created_by.get_username() if job.created_by is not None else "import"
    _stage_drop()
    try:
        _stage_create()
        with job.file.open("rb") as binary, _fewer_collections():
            for chunk in _in_background(_checked_chunks(job, binary, max(1, batch_size))):
                with transaction.atomic():
                    counts = _chunk_apply(chunk, actor=actor, reference=f"import {job.pk}")
                    _batch(
                        (
                            f"INSERT INTO {ImportRowError._meta.db_table} (job_id, row_number, sku, field, message) "  # noqa: S608
                            f"SELECT %s, row_number, sku, field, message FROM {STAGE_ERRORS} "
                            "ORDER BY row_number, position",
                            [job.pk],
                        ),
                        *_tables_empty(counts.written),
                        _job_counters_add(job.pk, chunk, counts),
                    )
                if progress:
                    progress(job.pk)
    except CatalogFileInvalid as error:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED, failure=str(error), finished_at=timezone.now()
        )
    except Exception as error:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.FAILED,
            failure=f"The import stopped unexpectedly ({type(error).__name__}); rows before it were kept.",
            finished_at=timezone.now(),
        )
        raise
    else:
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.DONE, bytes_read=job.file_size, finished_at=timezone.now()
        )
    finally:
        _stage_drop()
    job.refresh_from_db()
    return job


@contextlib.contextmanager
def _fewer_collections(first_generation: int = 10_000) -> Iterator[None]:
    """Python's cycle collector run less often while the import runs: reading a chunk makes thousands of lists
    and tuples, and at the default threshold (700 new containers) the collector ran every few hundred rows and
    took about a quarter of the CPU of reading and checking (100,000 rows: 0.58 s, 0.43 s at 10,000). Cycles
    are still collected; the thresholds are restored afterwards."""
    thresholds = gc.get_threshold()
    gc.set_threshold(max(first_generation, thresholds[0]), *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)


def _job_counters_add(job_pk: int, chunk: _Chunk, counts: _Counts) -> tuple[str, list]:
    """The UPDATE adding a chunk's counts to its job (and its progress in the file), sent in the chunk's last
    batch: one round trip less per chunk, each of which waits to be scheduled again on a busy machine."""
    added = {
        "rows_processed": chunk.rows,
        "created_count": counts.created,
        "updated_count": counts.updated,
        "unchanged_count": counts.unchanged,
        "error_count": counts.rows_with_errors,
    }
    column = {field.name: field.column for field in ImportJob._meta.concrete_fields}
    assignments = ", ".join(f"{column[name]} = {column[name]} + %s" for name in added)
    return (
        f"UPDATE {ImportJob._meta.db_table} SET {assignments}, {column['bytes_read']} = %s "  # noqa: S608
        f"WHERE {column['id']} = %s",
        [*added.values(), chunk.bytes_read, job_pk],
    )


# --- reading and checking (in a background thread: no database here) -----------------------------


def _checked_chunks(job: ImportJob, binary, size: int) -> Iterator[_Chunk]:
    """The file's rows checked, `size` at a time. Raises CatalogFileInvalid for a file unreadable as a whole."""
    if job.file_format == ImportJob.Format.CSV:
        yield from _csv_chunks(job, binary, size)
        return
    columns, rows = jsonl_rows(binary)
    chunk = _Chunk()
    for row in rows:
        _row_check(row, columns, chunk)
        if chunk.rows >= size:
            chunk.bytes_read = _tell(binary)
            yield chunk
            chunk = _Chunk()
    chunk.bytes_read = job.file_size
    yield chunk


def _csv_chunks(job: ImportJob, binary, size: int) -> Iterator[_Chunk]:
    """The CSV's rows, `size` at a time, checked a column at a time (`product_columns_clean`)."""
    columns, records = csv_records(binary)
    given = _given(tuple(columns))
    chunk, row_numbers, cells = _Chunk(), [], []
    for row_number, record, unreadable in records:
        chunk.rows += 1
        if record is None:
            chunk.errors.append((row_number, 0, "", "", f"Row {unreadable}"))
        else:
            row_numbers.append(row_number)
            cells.append(record)
        if chunk.rows >= size:
            _columns_check(chunk, columns, given, row_numbers, cells)
            chunk.bytes_read = _tell(binary)
            yield chunk
            chunk, row_numbers, cells = _Chunk(), [], []
    _columns_check(chunk, columns, given, row_numbers, cells)
    chunk.bytes_read = job.file_size
    yield chunk


def _columns_check(chunk: _Chunk, columns: list[str], given: int, row_numbers: list[int], cells: list) -> None:
    """Check a CSV chunk's readable rows and add them to `chunk`: the good ones staged, the others' errors."""
    if not cells:
        return
    clean, errors = product_columns_clean(columns, cells)
    skus = clean["sku"]
    for index in sorted(errors):
        field_errors: list[FieldError] = errors[index]
        sku_bad = any(error.field == "sku" for error in field_errors)
        sku = cells[index][columns.index("sku")][:255] if sku_bad else skus[index]
        chunk.errors.extend(
            (row_numbers[index], position, sku, error.field, error.message)
            for position, error in enumerate(field_errors)
        )
    staged: Iterator[tuple] = zip(
        row_numbers,
        skus,
        itertools.repeat(given),
        *(clean[name] if name in clean else itertools.repeat(NEW_PRODUCT_DEFAULTS[name]) for name in FIELDS),
    )
    if errors:
        staged = itertools.compress(staged, [index not in errors for index in range(len(cells))])
    good = list(staged)
    # a SKU twice among the rows (a bad row's too: that only costs the check in SQL, which looks at good rows)
    chunk.repeats = len(set(skus)) < len(skus)
    chunk.given_any = given if good else 0
    chunk.given_all = given if good else ALL_FIELDS
    chunk.good = good


def _row_check(row: SourceRow, columns: list[str] | None, chunk: _Chunk) -> None:
    chunk.rows += 1
    if row.unreadable:
        chunk.errors.append((row.row_number, 0, "", "", f"Row {row.unreadable}"))
        return
    fields = columns or list(row.values)
    clean, field_errors = product_fields_clean(row.values, fields=fields)
    if field_errors:
        sku = clean.get("sku", str(row.values.get("sku", ""))[:255])
        chunk.errors.extend(
            (row.row_number, position, sku, error.field, error.message) for position, error in enumerate(field_errors)
        )
        return
    given = _given(tuple(fields))
    sku = clean["sku"]
    if sku in chunk.skus:
        chunk.repeats = True
    chunk.skus.add(sku)
    chunk.given_any |= given
    chunk.given_all &= given
    chunk.good.append((row.row_number, sku, given, *_staged_values(NEW_PRODUCT_DEFAULTS | clean)))


_staged_values = operator.itemgetter(*FIELDS)


@functools.lru_cache(maxsize=256)
def _given(fields: tuple[str, ...]) -> int:
    """The `given` mask of a row that sets `fields`."""
    return sum(BIT.get(name, 0) for name in set(fields))


def _tell(binary) -> int:
    try:
        return binary.tell()
    except (OSError, ValueError, AttributeError):  # a closed file (read to the end) or one that cannot tell
        return 0


_END = object()


def _in_background(chunks: Iterator[_Chunk], *, ahead: int = 1) -> Iterator[_Chunk]:
    """Iterate `chunks` in a thread, at most `ahead` chunks in advance: the next chunk is read and checked
    while the caller writes this one. An exception in the thread is raised here; stopping early stops it."""
    handover: queue.Queue = queue.Queue(maxsize=ahead)
    stop = threading.Event()

    def hand(item) -> bool:
        while not stop.is_set():
            try:
                handover.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for chunk in chunks:
                if not hand(chunk):
                    return
            hand(_END)
        except BaseException as error:  # handed to the consumer, which raises it  # noqa: BLE001
            hand(error)

    thread = threading.Thread(target=produce, name="catalog-import-reader", daemon=True)
    thread.start()
    try:
        while (item := handover.get()) is not _END:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        thread.join()


# --- applying a chunk (in the caller's transaction) -----------------------------------------------


def _stage_create() -> None:
    """The temporary tables (this connection only), column types from the Product model.

    On PostgreSQL the SKUs seen so far (a million for a million-row file) are kept in byte order (COLLATE "C":
    the same equality, a cheaper comparison than the database's collation at every step of an index probe), and
    the connection's memory for temporary tables is raised first (`_temp_buffers_raise`): with the default 8 MB
    their index no longer fit past a few hundred thousand SKUs in no particular order, and every probe and
    insert read its pages back from the operating system. Measured on a million shuffled SKUs in chunks of
    5,000 (the seen-SKU probe and insert alone): 9.6-10.3 s of PostgreSQL CPU, 5.4 s with both."""
    types = {name: Product._meta.get_field(name).db_type(connection) for name in ("sku", *FIELDS)}
    columns = ", ".join(f"{name} {types[name]}" for name in FIELDS)
    if connection.vendor == "postgresql":
        _temp_buffers_raise()
    for statement in (
        f"CREATE TEMPORARY TABLE {STAGE} (row_number integer PRIMARY KEY, sku {types['sku']} NOT NULL, "
        f"given integer NOT NULL, {columns})",
        f"CREATE TEMPORARY TABLE {STAGE_ERRORS} (row_number integer NOT NULL, position integer NOT NULL, "
        "sku varchar(255) NOT NULL, field varchar(50) NOT NULL, message text NOT NULL)",
        f"CREATE TEMPORARY TABLE {MATCH} (row_number integer PRIMARY KEY, product_id bigint NOT NULL, "
        "quantity_before integer NOT NULL, changed integer NOT NULL)",
        f"CREATE TEMPORARY TABLE {SEEN} (sku {types['sku']}{_bytewise()} PRIMARY KEY, first_row integer NOT NULL)",
        f"CREATE TEMPORARY TABLE {CHANGES} (product_id bigint NOT NULL, quantity_before integer NOT NULL, "
        "quantity_after integer NOT NULL)",
    ):
        _execute(statement)


def _bytewise() -> str:
    """The collation of the seen SKUs (`_stage_create`), also given to a staged SKU compared with them."""
    return ' COLLATE "C"' if connection.vendor == "postgresql" else ""


def _temp_buffers_raise() -> None:
    """Give this connection TEMP_BUFFERS of memory for its temporary tables (PostgreSQL). Only possible before
    the connection first uses one: a worker's connection that ran an import before keeps the size that import
    set (or the default, if something else used a temporary table first: the import is then slower, not
    wrong)."""
    try:
        with transaction.atomic():
            _execute(f"SET temp_buffers = '{TEMP_BUFFERS}'")
    except DatabaseError as error:
        logger.info("Catalog import: temp_buffers kept as it was (%s)", error)


def _stage_drop() -> None:
    for table in (STAGE, STAGE_ERRORS, MATCH, SEEN, CHANGES):
        _execute(f"DROP TABLE IF EXISTS {table}")


def _chunk_apply(chunk: _Chunk, *, actor: str, reference: str) -> _Counts:
    """Apply one chunk (see the module docstring) in the caller's transaction. The counts name the temporary
    tables it wrote, for `_tables_empty` once the caller has read the row errors.

    The statements go to the database in a few batches (`_batch`: one round trip each on PostgreSQL), as
    each waits for the database, which on a busy machine costs more than the statement."""
    product = Product._meta.db_table
    written = {STAGE, STAGE_ERRORS}
    _stage_write(STAGE, STAGE_COLUMNS, chunk.good)
    _stage_write(STAGE_ERRORS, ERROR_COLUMNS, chunk.errors)
    # A SKU seen again (in an earlier chunk, or earlier in this one): the first good row wins.
    duplicate = (
        "'SKU ' || s.sku || ' appears again in this file (first on row ' || CAST(f.first_row AS text) "
        "|| '); row skipped.'"
    )
    repeated = _error_rows(
        field="sku", position=0, message=duplicate, source=f"{STAGE} s JOIN {SEEN} f ON f.sku = s.sku{_bytewise()}"
    )
    if chunk.repeats:
        repeated += " UNION ALL " + _error_rows(  # noqa: S608
            field="sku",
            position=0,
            message=duplicate,
            source=f"{STAGE} s JOIN (SELECT sku, MIN(row_number) AS first_row FROM {STAGE} GROUP BY sku "  # noqa: S608
            f"HAVING COUNT(*) > 1) f ON f.sku = s.sku WHERE s.row_number > f.first_row "
            f"AND NOT EXISTS (SELECT 1 FROM {SEEN} e WHERE e.sku = s.sku{_bytewise()})",
        )
    # Then the products the chunk names, with their quantity and the fields each row would change (a mask, 0:
    # unchanged), read without locking them; and the rows that would change one.
    _, dropped, _, matched, changed_rows = _batch_index_joins(
        f"INSERT INTO {STAGE_ERRORS} (row_number, position, sku, field, message) {repeated}",
        f"DELETE FROM {STAGE} WHERE row_number IN (SELECT row_number FROM {STAGE_ERRORS})",  # noqa: S608
        f"INSERT INTO {SEEN} (sku, first_row) SELECT sku, row_number FROM {STAGE}",  # noqa: S608
        f"INSERT INTO {MATCH} (row_number, product_id, quantity_before, changed) "  # noqa: S608
        f"SELECT s.row_number, p.id, p.quantity, {_differs(chunk)} FROM {STAGE} s JOIN {product} p ON p.sku = s.sku",
        CHANGED_ROWS,
    )
    staged = len(chunk.good) - dropped
    if matched:
        written.add(MATCH)
    if changed_rows and connection.vendor == "postgresql":
        changed_rows = _changed_locked(chunk)
    new_rows = f"{STAGE} s WHERE NOT EXISTS (SELECT 1 FROM {MATCH} m WHERE m.row_number = s.row_number)"  # noqa: S608
    missing = [
        f"INSERT INTO {STAGE_ERRORS} (row_number, position, sku, field, message) "
        + _error_rows(
            field=name,
            position=position,
            message=f"'{name} is required for a new product (SKU ' || s.sku || ' is not in the catalog).'",
            source=f"{new_rows} AND (s.given & {BIT[name]}) = 0",
        )
        for position, name in enumerate(FIELDS_REQUIRED_FOR_NEW, start=1)
        if not chunk.given_all & BIT[name]  # some row leaves it out
    ]
    if missing and staged > matched:
        staged -= _batch(
            *missing,
            f"DELETE FROM {STAGE} WHERE row_number IN (SELECT row_number FROM {STAGE_ERRORS})",  # noqa: S608
        )[-1]
    stamp = connection.ops.adapt_datetimefield_value(timezone.now())
    updated, created = _products_write(chunk, changed=bool(changed_rows), new=staged > matched, stamp=stamp)
    _changes_announce(created=created, changed_rows=changed_rows, written=written, actor=actor, reference=reference)
    rows_with_errors = len({error[0] for error in chunk.errors}) + len(chunk.good) - staged
    return _Counts(
        created=len(created),
        updated=updated,
        unchanged=matched - len(changed_rows),
        rows_with_errors=rows_with_errors,
        written=written,
    )


def _tables_empty(tables: set[str]) -> list[str]:
    """The statements that empty a chunk's temporary tables (TRUNCATE: temporary tables are never vacuumed, dead
    rows would pile up). A chunk that fails rolls back with them, leaving them as empty as it found them."""
    if connection.vendor == "postgresql":
        return [f"TRUNCATE {', '.join(sorted(tables))}"]
    return [f"DELETE FROM {table}" for table in sorted(tables)]  # noqa: S608


def _differs(chunk: _Chunk) -> str:
    """The SQL mask of the fields a staged row (s) would change on its product (p)."""
    return (
        " + ".join(
            f"CASE WHEN (s.given & {bit}) <> 0 AND s.{name} {_distinct()} p.{name} THEN {bit} ELSE 0 END"
            for name, bit in _bits(chunk.given_any)
        )
        or "0"
    )


def _changed_locked(chunk: _Chunk) -> list[tuple[int, int]]:
    """Lock the products that differ (in id order: two imports never deadlock) and compare them again under
    the lock, so the quantities the stock movements start from are the ones the update replaces (a change
    committed meanwhile is seen). Returns the rows that still differ (`CHANGED_ROWS`). PostgreSQL only."""
    product = Product._meta.db_table
    return _batch_index_joins(
        f"SELECT p.id FROM {product} p JOIN {MATCH} m ON m.product_id = p.id WHERE m.changed <> 0 "  # noqa: S608
        "ORDER BY p.id FOR UPDATE OF p",
        f"UPDATE {MATCH} m SET quantity_before = p.quantity, changed = {_differs(chunk)} "  # noqa: S608
        f"FROM {STAGE} s, {product} p WHERE m.changed <> 0 AND s.row_number = m.row_number AND p.id = m.product_id",
        CHANGED_ROWS,
    )[-1]


def _batch_index_joins(*statements: str) -> list:
    """`_batch(statements)`, on PostgreSQL planned with nested loops only (hash and merge joins off for them, the
    defaults again after them, in the same round trip): a chunk joined with the catalog (or the SKUs seen so
    far) then probes their unique indexes, a few thousand lookups, where a hash join would read the whole table
    for every chunk (the temporary tables have no statistics, so the planner cannot tell). Never for a
    statement that fires the sync's triggers (their transition tables have no index). Returns the statements'
    results."""
    if connection.vendor != "postgresql":
        return _batch(*statements)
    results = _batch(
        "SET LOCAL enable_hashjoin = off",
        "SET LOCAL enable_mergejoin = off",
        *statements,
        "SET LOCAL enable_hashjoin TO DEFAULT",
        "SET LOCAL enable_mergejoin TO DEFAULT",
    )
    return results[2:-2]


def _stage_write(table: str, columns: Sequence[str], rows: list[tuple]) -> None:
    if not rows:
        return
    names = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                write = copy.write_row
                for row in rows:
                    write(row)
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({names}) VALUES ({placeholders})", rows)  # noqa: S608


def _bits(mask: int) -> list[tuple[str, int]]:
    """(field, bit) of the fields in `mask`."""
    return [(name, bit) for name, bit in BIT.items() if mask & bit]


def _distinct() -> str:
    return "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"


def _error_rows(*, field: str, position: int, message: str, source: str) -> str:
    """A SELECT of row errors found in SQL (STAGE_ERRORS columns): one for each staged row of `source` (aliased s)
    on `field`, `message` an SQL expression. Only names and literals of this module are formatted into it."""
    return f"SELECT s.row_number, {position}, s.sku, '{field}', {message} FROM {source}"  # noqa: S608


def _products_write(chunk: _Chunk, *, changed: bool, new: bool, stamp) -> tuple[int, list[tuple[int, int]]]:
    """Write the staged fields of every existing product that differs (the others are not touched), then insert
    the staged rows whose SKU is new, with their final quantity, in file order (ids follow the rows). Returns
    (products updated, (id, quantity) of those created)."""
    table = Product._meta.db_table
    statements: list = []
    if changed:
        assignments = []
        for name, bit in _bits(chunk.given_any):
            if chunk.given_all & bit:
                assignments.append(f"{name} = s.{name}")
            else:
                assignments.append(f"{name} = CASE WHEN (s.given & {bit}) <> 0 THEN s.{name} ELSE {table}.{name} END")
        statements.append(
            (
                f"UPDATE {table} SET {', '.join(assignments)}, updated_at = %s FROM {STAGE} s "  # noqa: S608
                f"JOIN {MATCH} m ON m.row_number = s.row_number WHERE m.product_id = {table}.id AND m.changed <> 0",
                [stamp],
            )
        )
    if new:
        names = ("sku", *FIELDS)
        insert = (
            f"INSERT INTO {table} ({', '.join(names)}, created_at, updated_at) "  # noqa: S608
            f"SELECT {', '.join(f's.{name}' for name in names)}, %s, %s FROM {STAGE} s "
            f"WHERE NOT EXISTS (SELECT 1 FROM {MATCH} m WHERE m.row_number = s.row_number) "
            "ORDER BY s.row_number RETURNING id, quantity"
        )
        if connection.vendor == "postgresql":  # their quantities noted for the stock movements in the same statement
            insert = (
                f"WITH created AS ({insert}), noted AS (INSERT INTO {CHANGES} "  # noqa: S608
                "(product_id, quantity_before, quantity_after) SELECT id, 0, quantity FROM created "
                "WHERE quantity <> 0) SELECT id, quantity FROM created"
            )
        statements.append((insert, [stamp, stamp]))
    if not statements:
        return 0, []
    results = _batch(*statements)
    return (results[0] if changed else 0), (results[-1] if new else [])


def _changes_announce(
    *,
    created: list[tuple[int, int]],
    changed_rows: list[tuple[int, int, int, int]],
    written: set[str],
    actor: str,
    reference: str,
) -> None:
    """Send the catalog signals for the chunk: the quantities set, with their value before (a new product's is
    0), also gathered set-based in the CHANGES table for the stock movements; and the products whose other
    fields changed (a new product: all of them)."""
    quantity_bit = BIT["quantity"]
    moved = [QuantityChange(product_id, 0, quantity) for product_id, quantity in created if quantity]
    moved += [
        QuantityChange(product_id, before, after)
        for product_id, mask, before, after in changed_rows
        if mask & quantity_bit
    ]
    if moved:
        written.add(CHANGES)
        sources = []
        if created and connection.vendor != "postgresql":  # on PostgreSQL the insert noted them (`_products_write`)
            sources.append(
                f"SELECT p.id, 0, p.quantity FROM {STAGE} s JOIN {Product._meta.db_table} p ON p.sku = s.sku "  # noqa: S608
                f"WHERE s.quantity <> 0 AND NOT EXISTS (SELECT 1 FROM {MATCH} m WHERE m.row_number = s.row_number)"
            )
        if len(moved) > sum(1 for _, quantity in created if quantity):
            sources.append(
                f"SELECT m.product_id, m.quantity_before, s.quantity FROM {MATCH} m "  # noqa: S608
                f"JOIN {STAGE} s ON s.row_number = m.row_number WHERE (m.changed & {quantity_bit}) <> 0"
            )
        if sources:
            _batch_index_joins(
                f"INSERT INTO {CHANGES} (product_id, quantity_before, quantity_after) {' UNION ALL '.join(sources)}"
            )
        product_quantities_set_send(
            sender=ImportJob,
            changes=QuantityChangesInTable(CHANGES, moved),
            reason="import",
            actor=actor,
            reference=reference,
        )
    changed_mask = ALL_FIELDS if created else 0
    changed_ids = [product_id for product_id, _ in created]
    for product_id, mask, _, _ in changed_rows:
        if mask & ~quantity_bit:
            changed_ids.append(product_id)
            changed_mask |= mask
    products_changed_send(
        sender=ImportJob,
        product_ids=changed_ids,
        fields=[name for name, bit in _bits(changed_mask) if name != "quantity"],
    )


# --- SQL helpers ---------------------------------------------------------------------------------


def _batch(*statements: str | tuple[str, Sequence]) -> list:
    """Run statements (SQL, or (SQL, parameters)) in order, on PostgreSQL in one round trip (Django's default
    client-side binding cursor sends them as one query; a failing one aborts the transaction like any other;
    with `server_side_binding` on, one by one). Returns, for each, its rows if it returns rows, else the number
    of rows it changed."""
    items = [(statement, ()) if isinstance(statement, str) else statement for statement in statements]
    results: list = []
    one_query = (
        connection.vendor == "postgresql" and connection.settings_dict["OPTIONS"].get("server_side_binding") is not True
    )
    with connection.cursor() as cursor:
        if one_query:
            params = [value for _, values in items for value in values]
            cursor.execute("; ".join(sql for sql, _ in items), params or None)
            raw = cursor.cursor
            while True:
                results.append(raw.fetchall() if raw.description is not None else max(raw.rowcount, 0))
                if not raw.nextset():
                    break
        else:
            for sql, values in items:
                cursor.execute(sql, values or None)
                results.append(cursor.fetchall() if cursor.description is not None else max(cursor.rowcount, 0))
    return results


def _execute(sql: str, params: Sequence | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


def _fetch(sql: str, params: Sequence | None = None) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
