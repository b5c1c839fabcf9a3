"""Request and response schemas, declared once: they validate requests and produce the OpenAPI document."""

from __future__ import annotations

import ipaddress
import re
from datetime import datetime
from typing import Annotated, Any

import email_validator
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from service.errors import ApiError

MAX_BODY_CHARS = 10_000


UNPAIRED_SURROGATE = re.compile("[\ud800-\udfff]")


def clean_text(value: Any) -> Any:
    """Drop NUL and replace unpaired surrogates with U+FFFD: valid JSON, but no database can store them."""
    if isinstance(value, str):
        return UNPAIRED_SURROGATE.sub("\ufffd", value.replace("\x00", ""))
    return value


def blank_to_none(value: Any) -> Any:
    """Comment forms send empty strings for fields left blank; they mean 'not given'."""
    value = clean_text(value)
    if isinstance(value, str) and not value.strip():
        return None
    return value


# An intranet news site's readers may well be @newsroom.local: the address is never mailed, only
# matched against itself (first comment) and known disposable domains, so the special-use names that
# email-validator refuses by default (local, test, ...) are accepted. The library documents this list.
email_validator.SPECIAL_USE_DOMAIN_NAMES.clear()

# The published schema carries these same patterns, so what it calls valid is what the API accepts
# (schemathesis checks exactly that). Spelled out, not \s: Python and the schema's (ECMA) regex
# disagree on what \s means.
_SPACE_OR_CONTROL = r"\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000"
HTTP_URL_PATTERN = (
    rf"^[Hh][Tt][Tt][Pp][Ss]?://(?:\[[0-9A-Fa-f:.]+\](?::[0-9]*)?|[^/?#\[\]@{_SPACE_OR_CONTROL}]+)"
    rf"(?:[/?#][^{_SPACE_OR_CONTROL}]*)?$"
)
NOT_BLANK_PATTERN = rf"[^{_SPACE_OR_CONTROL}]"


def check_http_url(value: str | None) -> str | None:
    if value is None:
        return None
    if not re.fullmatch(HTTP_URL_PATTERN, value):
        raise ValueError("must be an http or https URL")
    return value


def check_not_blank(value: str) -> str:
    """Control characters alone are as blank as spaces: the schema's pattern says so, and so do we."""
    if not re.search(NOT_BLANK_PATTERN, value):
        raise ValueError("must contain visible text")
    return value


IP_SCHEMA = {"anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]}


def check_ip(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return str(ipaddress.ip_address(value))
    except ValueError as error:
        raise ValueError("must be an IPv4 or IPv6 address") from error


def _text(min_length: int, max_length: int) -> Any:
    return Annotated[
        str,
        BeforeValidator(clean_text),
        StringConstraints(min_length=min_length, max_length=max_length),
        AfterValidator(check_not_blank),
        Field(json_schema_extra={"pattern": NOT_BLANK_PATTERN}),
    ]


def _optional(max_length: int, *checks: Any, schema: dict[str, Any] | None = None) -> Any:
    after = [AfterValidator(check) for check in checks]
    bounded = Annotated[str, StringConstraints(max_length=max_length), WithJsonSchemaExtra(schema or {})]
    return Annotated[bounded | None, BeforeValidator(blank_to_none), *after, Field(default=None)]


class WithJsonSchemaExtra:
    """Adds keywords to a type's JSON schema (validation is done by the type's own validators)."""

    def __init__(self, extra: dict[str, Any]):
        self.extra = extra

    def __get_pydantic_json_schema__(self, core_schema: Any, handler: Any) -> dict[str, Any]:
        return {**handler(core_schema), **self.extra}


class CommentIn(BaseModel):
    """A reader's comment as the news site's form submitted it."""

    model_config = ConfigDict(str_strip_whitespace=True, coerce_numbers_to_str=True, extra="ignore")

    article_id: _text(1, 256)  # type: ignore[valid-type]
    body: _text(1, MAX_BODY_CHARS)  # type: ignore[valid-type]
    author_name: _text(1, 200)  # type: ignore[valid-type]
    author_email: Annotated[EmailStr, BeforeValidator(clean_text), Field(max_length=320, description="Never published")]
    article_url: _optional(2048, check_http_url, schema={"pattern": HTTP_URL_PATTERN})  # type: ignore[valid-type]
    article_title: _optional(500)  # type: ignore[valid-type]
    author_url: _optional(2048, check_http_url, schema={"pattern": HTTP_URL_PATTERN})  # type: ignore[valid-type]
    author_ip: _optional(45, check_ip, schema=IP_SCHEMA)  # type: ignore[valid-type]
    user_agent: _optional(1000)  # type: ignore[valid-type]
    parent_id: _optional(256)  # type: ignore[valid-type]
    external_id: _optional(256)  # type: ignore[valid-type]
    lang: _optional(35)  # type: ignore[valid-type]


class Reason(BaseModel):
    model_config = ConfigDict(extra="allow")
    code: str
    rule: str


class CommentAccepted(BaseModel):
    id: str
    status: str
    article_id: str
    external_id: str | None
    created_at: datetime


PRIVATE_REASON_KEYS = ("note", "moderator")  # moderators' own words and names stay in the workspace


class CommentOut(BaseModel):
    """A comment as its own site sees it: no email, IP or user agent, ever."""

    @field_validator("reasons", mode="before")
    @classmethod
    def public_reasons(cls, reasons: Any) -> Any:
        if isinstance(reasons, list):
            public = [r for r in reasons if isinstance(r, dict)]
            return [{k: v for k, v in r.items() if k not in PRIVATE_REASON_KEYS} for r in public]
        return reasons

    id: str
    status: str
    article_id: str
    article_url: str | None
    article_title: str | None
    external_id: str | None
    parent_id: str | None
    body: str
    author_name: str
    author_url: str | None
    lang: str | None
    scores: dict[str, float] | None
    reasons: list[Reason] | None
    model_version: str | None
    model_precision: str | None
    created_at: datetime
    decided_at: datetime | None


class PublicComment(BaseModel):
    """What an article page may show its readers."""

    id: str
    external_id: str | None
    parent_id: str | None
    article_id: str
    body: str
    author_name: str
    author_url: str | None
    created_at: datetime


class CommentPage(BaseModel):
    comments: list[PublicComment]
    page: int
    per_page: int
    total: int
    next_page: int | None


class ListQuery(BaseModel):
    status: str = Field(default="approved", pattern="^(approved|held|pending|rejected)$")
    page: int = Field(default=1, ge=1, le=100_000)
    per_page: int = Field(default=50, ge=1, le=200)


class ErrorDetail(BaseModel):
    code: str
    message: str
    fields: dict[str, str] | None = None


class ErrorBody(BaseModel):
    error: ErrorDetail


def field_errors(error: ValidationError) -> dict[str, str]:
    """Pydantic's errors as {field: message}, one message per field."""
    fields: dict[str, str] = {}
    for item in error.errors():
        name = ".".join(str(part) for part in item["loc"]) or "request"
        fields.setdefault(name, _message(item))
    return fields


def _message(item: Any) -> str:
    ctx = item.get("ctx") or {}
    if item["type"] in ("too_short", "string_too_short"):
        return (
            "must not be empty"
            if ctx.get("min_length") == 1
            else f"must be at least {ctx.get('min_length')} characters"
        )
    if item["type"] in ("too_long", "string_too_long"):
        return f"must be at most {ctx.get('max_length')} characters"
    if item["type"] == "missing":
        return "is required"
    return str(item["msg"]).removeprefix("Value error, ")


def validate(model: type[BaseModel], data: Any) -> Any:
    """Validate `data` against `model`, raising the API's 422 error naming each bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        fields = field_errors(error)
        raise ApiError(422, "invalid_fields", "invalid fields: " + ", ".join(sorted(fields)), fields) from None
