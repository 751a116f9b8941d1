"""Admin console payloads (API.md §7)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, post_load, validate

from cyberscan.schemas.common import (
    PageQuerySchema,
    StrictBoolean,
    StrictSchema,
    Timestamp,
    TrimmedString,
)
from cyberscan.schemas.user import UserPrivateSchema

REVIEW_ACTIONS = ("dismiss", "remove")
FLAG_STATUSES = ("pending", "reviewed", "all")
MAX_MUTE_MINUTES = 7 * 24 * 60
# The longest user search (an email's length); the dashboard's box holds no more.
USER_QUERY_MAX = 254


def _username(attribute: str) -> fields.Function:
    def get(obj: Any) -> str | None:
        user = getattr(obj, attribute)
        return None if user is None else user.username

    return fields.Function(get, dump_only=True)


def _blank_to_none(data: dict[str, Any], *names: str) -> dict[str, Any]:
    for name in names:
        if data.get(name) == "":
            data[name] = None
    return data


class ReasonSchema(StrictSchema):
    """An optional reason, kept in the audit log; blank means none."""

    reason = TrimmedString(load_default=None, validate=validate.Length(max=500))

    @post_load
    def blank_reason(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return _blank_to_none(data, "reason")


class UnblockSchema(ReasonSchema):
    reset_count = StrictBoolean(load_default=True)


class MuteSchema(ReasonSchema):
    minutes = fields.Integer(
        required=True,
        strict=True,
        validate=validate.Range(min=1, max=MAX_MUTE_MINUTES),
    )


class ReviewSchema(StrictSchema):
    action = fields.String(required=True, validate=validate.OneOf(REVIEW_ACTIONS))
    note = TrimmedString(load_default=None, validate=validate.Length(max=500))

    @post_load
    def blank_note(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        return _blank_to_none(data, "note")


class FlagQuerySchema(PageQuerySchema):
    status = fields.String(
        load_default="pending", validate=validate.OneOf(FLAG_STATUSES)
    )


class UserQuerySchema(PageQuerySchema):
    q = TrimmedString(load_default=None, validate=validate.Length(max=USER_QUERY_MAX))


class StatsQuerySchema(StrictSchema):
    hours = fields.Integer(load_default=24, validate=validate.Range(min=1, max=720))


class AdminUserSchema(UserPrivateSchema):
    """A user as the admin console sees it."""

    blocked_at = Timestamp(dump_only=True)
    blocked_reason = fields.String(dump_only=True)


class AdminUserEnvelopeSchema(StrictSchema):
    user = fields.Nested(AdminUserSchema)


class KickResultSchema(AdminUserEnvelopeSchema):
    disconnected = fields.Integer()


class FlagSchema(StrictSchema):
    """A flag as the admins see it, in the queue and in the live `flagged_item` event."""

    id = fields.Integer()
    item_type = fields.String()
    item_id = fields.String()
    author = _username("author")
    author_id = fields.Integer()
    author_is_blocked = fields.Function(lambda flag: bool(flag.author.is_blocked))
    author_bullying_count = fields.Function(lambda flag: flag.author.bullying_count)
    content = fields.String()
    probability = fields.Float()
    model_version = fields.String()
    terms = fields.Function(lambda flag: list(flag.terms or []))
    created_at = Timestamp()
    reviewed_at = Timestamp(allow_none=True)
    reviewed_by = _username("reviewed_by")
    review_action = fields.String(allow_none=True)
    strike_status = fields.String()


class AuditEntrySchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    created_at = Timestamp(dump_only=True)
    actor = _username("actor")
    action = fields.String(dump_only=True)
    target = _username("target")
    reason = fields.String(dump_only=True, allow_none=True)
    details = fields.Dict(dump_only=True)


class SummarySchema(StrictSchema):
    total_users = fields.Integer()
    total_messages = fields.Integer()
    flagged_messages = fields.Integer()
    blocked_users = fields.Integer()
    online_users = fields.Integer()
    muted_users = fields.Integer()
    total_posts = fields.Integer()
    total_comments = fields.Integer()
    flagged_posts = fields.Integer()
    flagged_comments = fields.Integer()
    pending_flags = fields.Integer()
    pending_appeals = fields.Integer()
    pending_reports = fields.Integer()
    flagged_share = fields.Float()
    max_bullying_count = fields.Integer()
    bullying_threshold = fields.Float()
    flagged_message_policy = fields.String()


class HourSchema(StrictSchema):
    hour = fields.String()
    messages = fields.Integer()
    flagged = fields.Integer()
    posts = fields.Integer()
    comments = fields.Integer()
    items = fields.Integer()
    flagged_items = fields.Integer()


class ShareSchema(StrictSchema):
    hour = fields.String()
    share = fields.Float()


class OffenderSchema(StrictSchema):
    username = fields.String()
    bullying_count = fields.Integer()
    is_blocked = fields.Boolean()
    flagged_items = fields.Integer()


class StatsSchema(StrictSchema):
    hours = fields.List(fields.Nested(HourSchema))
    flagged_share = fields.List(fields.Nested(ShareSchema))
    top_offenders = fields.List(fields.Nested(OffenderSchema))
