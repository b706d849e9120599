"""manage.py catalog_import FILE: import a catalog CSV or JSON Lines file in this process."""

from pathlib import Path

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from listings.catalog_import import CHUNK_ROWS, catalog_import_run
from listings.catalog_io import CatalogFileInvalid
from listings.models import ImportJob, ImportRowError
from listings.services import import_job_create


class Command(BaseCommand):
    help = (
        "Import products from a CSV (documented header) or JSON Lines file: upsert by SKU in batches, "
        "report every bad row. The file is stored like an upload, so the import shows in the dashboard."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to a .csv or .jsonl file")
        parser.add_argument("--batch-size", type=int, default=CHUNK_ROWS, help="rows checked and staged at a time")
        parser.add_argument("--max-errors-shown", type=int, default=200)

    def handle(self, *args, file: str, batch_size: int, max_errors_shown: int, **options):
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        with path.open("rb") as handle:
            uploaded = File(handle, name=path.name)
            uploaded.size = path.stat().st_size
            try:
                job = import_job_create(uploaded_file=uploaded, run=False)
            except CatalogFileInvalid as error:
                raise CommandError(str(error)) from None
        job = catalog_import_run(
            job=job,
            batch_size=batch_size,
            progress=lambda pk: self.stderr.write(
                "  {rows_processed} rows read".format(**ImportJob.objects.values("rows_processed").get(pk=pk))
            )
            if options["verbosity"] > 1
            else None,
        )
        for row_error in ImportRowError.objects.filter(job=job).order_by("row_number", "id")[:max_errors_shown]:
            self.stdout.write(f"row {row_error.row_number} {row_error.field or '-'}: {row_error.message}")
        if job.status == ImportJob.Status.FAILED:
            raise CommandError(f"Import failed: {job.failure}")
        self.stdout.write(
            f"Import done: {job.rows_processed} rows, {job.created_count} created, {job.updated_count} updated, "
            f"{job.unchanged_count} unchanged, {job.error_count} with errors."
        )
