"""On-request reports (2024-12 on-request-reports spec) and the report file link. Rules in reports.py."""

from datetime import UTC, datetime
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_not_required
from django.http import HttpResponse
from django.urls import reverse
from django.views.decorators.http import require_GET

from walmart_emulator import reports
from walmart_emulator.clock import emulator_now
from walmart_emulator.errors import EmulatorError, error_response
from walmart_emulator.http import EmulatorRequest, json_body, walmart_endpoint
from walmart_emulator.models import ReportRequest, Seller
from walmart_emulator.views import int_param


def _requests_family(request: EmulatorRequest) -> str:
    if request.method == "POST":
        return f"reports:{request.GET.get('reportType', '')}"
    return "reports_read"


@walmart_endpoint(_requests_family, methods=("GET", "POST"))
def report_requests(request: EmulatorRequest, seller: Seller):
    """POST: create a report request; GET: the seller's requests of one type (last 30 days), paged."""
    report_type = request.GET.get("reportType", "")
    if not report_type:
        raise EmulatorError("reportType is required.", field="reportType", code=f"MISSING_REQUEST_PARAM.{reports.API}")
    if request.method == "POST":
        payload = json_body(request, api=reports.API) if request.body.strip() else {}
        report = reports.report_request_create(
            seller=seller,
            report_type=report_type,
            report_version=request.GET.get("reportVersion", ""),
            payload=payload,
        )
        return reports.report_request_json(report, report.status)
    return _request_list(request, seller, report_type)


def _request_list(request: EmulatorRequest, seller: Seller, report_type: str) -> dict:
    now = request.emulator_now
    queryset = ReportRequest.objects.filter(
        seller=seller, report_type=report_type, submitted_at__gte=now - reports.RETENTION
    ).defer("file")
    if request.GET.get("reportVersion"):
        queryset = queryset.filter(report_version=request.GET["reportVersion"])
    for name, lookup in (("requestSubmissionStartDate", "gte"), ("requestSubmissionEndDate", "lte")):
        if request.GET.get(name):
            queryset = queryset.filter(**{f"submitted_at__{lookup}": _date_param(request.GET[name], name)})
    status = request.GET.get("requestStatus")
    if status and status not in ReportRequest.Status.values:
        raise EmulatorError(
            f"requestStatus '{status}' is invalid.", field="requestStatus", code=f"INVALID_REQUEST_PARAM.{reports.API}"
        )
    page = int_param(request, "page", 1, minimum=1, api=reports.API)
    limit = int_param(request, "limit", 10, minimum=1, maximum=100, api=reports.API)
    found = []
    for report in queryset.select_related("seller").order_by("-pk"):
        shown = reports.report_display_status(reports.report_process_due(report=report, now=now), now)
        if not status or shown == status:
            found.append((report, shown))
    rows = found[(page - 1) * limit : page * limit]
    body = {
        "page": page,
        "totalCount": len(found),
        "limit": limit,
        "requests": [reports.report_request_json(report, shown) for report, shown in rows],
    }
    if page * limit < len(found):
        params = {key: value for key, value in request.GET.items() if key not in ("page", "limit")}
        body["nextCursor"] = urlencode({**params, "page": page + 1, "limit": limit})
    return body


def _date_param(value: str, name: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise EmulatorError(
            f"{name} must be YYYY-MM-DDTHH:mm:ssZ.", field=name, code=f"INVALID_REQUEST_PARAM.{reports.API}"
        ) from error
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@walmart_endpoint("reports_read")
def report_request_detail(request: EmulatorRequest, seller: Seller, request_id: str):
    """GET /v3/reports/reportRequests/{requestId} (makes a due report first)."""
    now = request.emulator_now
    report = reports.report_process_due(report=reports.report_get(seller=seller, request_id=request_id), now=now)
    return reports.report_request_json(report, reports.report_display_status(report, now))


@walmart_endpoint("reports_read")
def download_report(request: EmulatorRequest, seller: Seller):
    """GET /v3/reports/downloadReport?requestId= -> the file link (no downloadURL until the report is READY)."""
    request_id = request.GET.get("requestId", "")
    if not request_id:
        raise EmulatorError("requestId is required.", field="requestId", code=f"MISSING_REQUEST_PARAM.{reports.API}")
    now = request.emulator_now
    report = reports.report_process_due(report=reports.report_get(seller=seller, request_id=request_id), now=now)
    body = reports.report_request_json(report, reports.report_display_status(report, now))
    if report.status == ReportRequest.Status.READY:
        expires = int((now + reports.URL_LIFETIME).timestamp())
        query = urlencode({"se": expires, "sig": reports.download_signature(report.request_id, expires)})
        path = reverse("walmart_emulator:report_file", kwargs={"request_id": report.request_id})
        body["downloadURL"] = request.build_absolute_uri(f"{path}?{query}")
        body["downloadURLExpirationTime"] = datetime.fromtimestamp(expires, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return body


@login_not_required
@require_GET
def report_file(request: EmulatorRequest, request_id: str):
    """The report file behind a download link: no Walmart headers, only the link's expiry and signature."""
    try:
        reports.download_link_check(
            request_id=request_id,
            expires=request.GET.get("se", ""),
            signature=request.GET.get("sig", ""),
            now=emulator_now(),
        )
        report, content = reports.report_file(request_id=request_id)
    except EmulatorError as error:
        return error_response(error)
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{report.report_type}_{report.request_id}.zip"'
    return response
