"""Google's error answers, in the JSON shape the APIs use.

Shape (https://developers.google.com/workspace/calendar/api/guides/errors, "Handle API errors";
https://developers.google.com/workspace/drive/api/guides/handle-errors)::

    {"error": {"code": 404, "message": "Not Found",
               "errors": [{"domain": "global", "reason": "notFound", "message": "Not Found"}],
               "status": "NOT_FOUND"}}

``status`` is the canonical gRPC name Google adds to current answers; it is left out where the
documented body has none (410).  The token endpoint answers in OAuth 2.0's own shape
(RFC 6749 section 5.2), see :class:`OAuthError`.
"""

from __future__ import annotations

from typing import Any

#: HTTP code -> the canonical status Google puts beside it.
STATUS = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ALREADY_EXISTS",
    412: "FAILED_PRECONDITION",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    501: "UNIMPLEMENTED",
    503: "UNAVAILABLE",
}


class ApiError(Exception):
    """An error answer of Calendar v3 or Drive v3."""

    def __init__(
        self,
        code: int,
        reason: str,
        message: str,
        *,
        domain: str = "global",
        location: str | None = None,
        location_type: str | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(f"{code} {reason}: {message}")
        self.code = code
        self.reason = reason
        self.message = message
        self.domain = domain
        self.location = location
        self.location_type = location_type
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        item: dict[str, Any] = {
            "domain": self.domain,
            "reason": self.reason,
            "message": self.message,
        }
        if self.location:
            item["locationType"] = self.location_type or "parameter"
            item["location"] = self.location
        error: dict[str, Any] = {"code": self.code, "message": self.message, "errors": [item]}
        if self.code in STATUS:
            error["status"] = STATUS[self.code]
        error.update(self.extra)
        return {"error": error}


def bad_request(
    message: str, reason: str = "badRequest", *, location: str | None = None, domain: str = "global"
) -> ApiError:
    return ApiError(400, reason, message, location=location, domain=domain)


def invalid(message: str, location: str | None = None) -> ApiError:
    return ApiError(400, "invalid", message, location=location)


def required(message: str, location: str | None = None) -> ApiError:
    return ApiError(400, "required", message, location=location)


def not_found(message: str = "Not Found", location: str | None = None) -> ApiError:
    """404 notFound; Calendar answers it for a calendar the user cannot access too."""
    return ApiError(404, "notFound", message, location=location)


def unauthenticated(missing: bool) -> ApiError:
    """401 for a missing, unknown or expired access token (Calendar errors guide, 401)."""
    return ApiError(
        401,
        "required" if missing else "authError",
        "Login Required." if missing else "Invalid Credentials",
        location="Authorization",
        location_type="header",
        headers={
            "WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'
            + ("" if missing else ', error="invalid_token"')
        },
    )


def insufficient_scopes() -> ApiError:
    """403 when no granted scope is among the method's (the answer Google gives today)."""
    return ApiError(
        403,
        "insufficientPermissions",
        "Request had insufficient authentication scopes.",
        extra={
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                    "domain": "googleapis.com",
                }
            ]
        },
    )


#: Injected failures: kind -> (code, domain, reason, message), from the Calendar errors guide.
FAULTS: dict[str, tuple[int, str, str, str]] = {
    "rateLimitExceeded": (403, "usageLimits", "rateLimitExceeded", "Rate Limit Exceeded"),
    "userRateLimitExceeded": (
        403,
        "usageLimits",
        "userRateLimitExceeded",
        "User Rate Limit Exceeded",
    ),
    "quotaExceeded": (403, "usageLimits", "quotaExceeded", "Calendar usage limits exceeded."),
    "429": (429, "usageLimits", "rateLimitExceeded", "Rate Limit Exceeded"),
    "500": (500, "global", "backendError", "Backend Error"),
    "503": (503, "global", "backendError", "The service is currently unavailable."),
}


def fault(kind: str) -> ApiError:
    try:
        code, domain, reason, message = FAULTS[kind]
    except KeyError:
        raise ValueError(f"unknown fault kind {kind!r}; one of {sorted(FAULTS)}") from None
    return ApiError(code, reason, message, domain=domain)


class OAuthError(Exception):
    """An error answer of the token endpoint: ``{"error": ..., "error_description": ...}``."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{status} {error}: {description}")
        self.status = status
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}
