"""The upload size limit (UPLOAD_MAX_MEGABYTES): the first upload handler stops receiving a file past it.

The file is then left out of request.FILES and the request is marked, so the page can say why instead of
"this field is required". The rest of the body is read and discarded, so the other fields (the CSRF token
among them) still arrive and the browser gets the page, not a reset connection. A reverse proxy in front
should refuse far larger bodies itself (nginx: client_max_body_size).
"""

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from django.http import HttpRequest

REFUSED_ATTRIBUTE = "upload_refused_filename"


def upload_max_bytes() -> int:
    return settings.UPLOAD_MAX_MEGABYTES * 1024 * 1024


def upload_too_large_message() -> str:
    return (
        f"The file is larger than the upload limit of {settings.UPLOAD_MAX_MEGABYTES} MB: split it into "
        "smaller files and import each one (re-importing is safe: products are matched on SKU)."
    )


def upload_refused(request: HttpRequest) -> bool:
    """Whether a file of this request was refused for its size."""
    return hasattr(request, REFUSED_ATTRIBUTE)


class UploadSizeLimitHandler(FileUploadHandler):
    """Counts each file's bytes as they arrive; past the limit the file is skipped and the request marked."""

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        if self.received > upload_max_bytes():
            setattr(self.request, REFUSED_ATTRIBUTE, self.file_name)
            raise SkipFile
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handlers build the file
