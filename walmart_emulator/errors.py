"""Walmart's error shape and the exception every emulator rule raises to produce it."""

from django.http import JsonResponse


class EmulatorError(Exception):
    """A request Walmart would refuse: turned into `{"errors":{"error":[...]}}` with `status`."""

    def __init__(
        self,
        description: str,
        *,
        status: int = 400,
        code: str = "INVALID_REQUEST_CONTENT.GMP_ORDER_API",
        field: str = "",
        info: str = "Request content is invalid.",
        category: str = "DATA",
        severity: str = "ERROR",
    ) -> None:
        super().__init__(description)
        self.status = status
        self.code = code
        self.field = field
        self.description = description
        self.info = info
        self.category = category
        self.severity = severity

    def as_dict(self) -> dict:
        return {
            "code": self.code,
            "field": self.field,
            "description": self.description,
            "info": self.info,
            "severity": self.severity,
            "category": self.category,
            "causes": [],
            "errorIdentifiers": {},
        }


def error_body(*errors: EmulatorError) -> dict:
    return {"errors": {"error": [error.as_dict() for error in errors]}}


def error_response(error: EmulatorError) -> JsonResponse:
    return JsonResponse(error_body(error), status=error.status)


def bad_request(description: str, *, field: str = "", api: str = "GMP_ORDER_API") -> EmulatorError:
    return EmulatorError(description, field=field, code=f"INVALID_REQUEST_CONTENT.{api}")


def not_found(description: str, *, field: str = "", api: str = "GMP_ORDER_API") -> EmulatorError:
    return EmulatorError(
        description,
        status=404,
        code=f"CONTENT_NOT_FOUND.{api}",
        field=field,
        info="Requested content could not be found.",
        severity="INFO",
    )


def unauthorized(description: str) -> EmulatorError:
    return EmulatorError(
        description,
        status=401,
        code="UNAUTHORIZED.GMP_GATEWAY_API",
        field="UNAUTHORIZED",
        info="Unauthorized token or invalid client id or secret.",
        category="REQUEST",
    )
