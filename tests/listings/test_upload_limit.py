"""An import file larger than UPLOAD_MAX_MEGABYTES is refused with a clear error on the import form, and
nothing is imported; a file under the limit imports as before."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from listings.models import ImportJob, Product

pytestmark = pytest.mark.django_db

LIMIT_MESSAGE = (
    "The file is larger than the upload limit of 1 MB: split it into smaller files and import each one "
    "(re-importing is safe: products are matched on SKU)."
)


def _catalog(size: int) -> bytes:
    header = b"sku,name,price,quantity\n"
    row = b"SKU-%06d,A product with a long enough name,9.99,1\n"
    rows = []
    total = len(header)
    number = 0
    while total < size:
        line = row % number
        rows.append(line)
        total += len(line)
        number += 1
    return header + b"".join(rows)


def test_a_file_over_the_limit_is_refused_with_a_clear_error(operator_client, settings):
    settings.UPLOAD_MAX_MEGABYTES = 1
    content = _catalog(1024 * 1024 + 4096)
    response = operator_client.post(reverse("listings:import"), {"file": SimpleUploadedFile("big.csv", content)})
    assert response.status_code == 200
    assert response.context["form"].errors == {"file": [LIMIT_MESSAGE]}
    assert LIMIT_MESSAGE in response.content.decode()
    assert ImportJob.objects.count() == 0
    assert Product.objects.count() == 0


def test_a_file_under_the_limit_imports(operator_client, settings, django_capture_on_commit_callbacks):
    settings.UPLOAD_MAX_MEGABYTES = 1
    content = _catalog(1024 * 1024 - 4096)
    with django_capture_on_commit_callbacks(execute=True):
        response = operator_client.post(reverse("listings:import"), {"file": SimpleUploadedFile("ok.csv", content)})
    job = ImportJob.objects.get()
    assert response["Location"] == reverse("listings:import_detail", args=[job.pk])
    job.refresh_from_db()
    assert (job.status, job.error_count) == ("done", 0)
    assert Product.objects.count() == job.created_count > 10_000


def test_the_form_states_the_limit(operator_client, settings):
    settings.UPLOAD_MAX_MEGABYTES = 7
    assert "At most 7 MB." in operator_client.get(reverse("listings:import")).content.decode()
