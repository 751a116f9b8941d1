"""People's controls: search, password, blocks, mutes, reports, strikes and appeals
(API.md §9)."""

from __future__ import annotations

from typing import Any

from marshmallow import (
    ValidationError,
    fields,
    post_load,
    pre_load,
    validate,
    validates_schema,
)

from cyberscan.schemas.common import (
    MESSAGE_ID_FORMAT,
    MessageId,
    PageQuerySchema,
    StrictSchema,
    Timestamp,
    TrimmedString,
    non_blank,
    null_as_absent,
    page_size,
)
from cyberscan.schemas.message import MessageSchema
from cyberscan.schemas.user import PASSWORD_MAX, new_password_field

USERNAME_MAX = 32
REPORT_REASON_MAX = 500
APPEAL_REASON_MAX = 1000
NOTE_MAX = 500
DECISIONS = ("accept", "reject")
APPEAL_STATUSES = ("open", "decided", "all")
REPORT_STATUSES = ("pending", "reviewed", "all")
REPORT_ACTIONS = ("dismiss", "remove")


def _name_of(attribute: str) -> fields.Function:
    """The username of a related user (None when there is none)."""

    def get(obj: Any) -> str | None:
        user = getattr(obj, attribute)
        return None if user is None else user.username

    return fields.Function(get, dump_only=True)


class UserSearchQuerySchema(PageQuerySchema):
    q = TrimmedString(required=True, validate=validate.Length(min=2, max=USERNAME_MAX))
    limit = fields.Integer(load_default=20, validate=validate.Range(min=1, max=100))


class UsernameSchema(StrictSchema):
    username = fields.String(dump_only=True)


class WholeOrPageQuerySchema(StrictSchema):
    """Without `limit` or `cursor` the whole list; with either, a page (`{items,
    next_cursor}`): a cursor alone continues at the default page size, as on every
    other list, rather than answering the whole list again. For lists that clients
    read whole: online users, blocks and mutes."""

    limit = fields.Integer(validate=validate.Range(min=1, max=100))
    cursor = fields.String(load_default=None, validate=validate.Length(max=200))

    @post_load
    def page_on_a_cursor(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        if data["cursor"] is not None and "limit" not in data:
            data["limit"] = page_size()
        return data


class PasswordChangeSchema(StrictSchema):
    current_password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=PASSWORD_MAX)
    )
    new_password = new_password_field()


class MessageResultSchema(StrictSchema):
    message = fields.String()


class MessageIdSchema(StrictSchema):
    """What `DELETE /api/chat/messages/<id>` answers, and `message_deleted` carries."""

    id = fields.String()


class BlockedUserSchema(StrictSchema):
    username = fields.Function(lambda row: row.blocked.username, dump_only=True)
    created_at = Timestamp(dump_only=True)


class MutedUserSchema(StrictSchema):
    username = fields.Function(lambda row: row.muted.username, dump_only=True)
    created_at = Timestamp(dump_only=True)


class BlockStateSchema(StrictSchema):
    username = fields.String()
    blocked = fields.Boolean()


class MuteStateSchema(StrictSchema):
    username = fields.String()
    muted = fields.Boolean()


class ReportCreateSchema(StrictSchema):
    # A message id is a UUID: anything else is a 422, as for `?after=`, not a 404.
    message_id = MessageId(validate=MESSAGE_ID_FORMAT)
    username = TrimmedString(validate=validate.Length(min=1, max=USERNAME_MAX))
    reason = TrimmedString(
        required=True, validate=[validate.Length(max=REPORT_REASON_MAX), non_blank]
    )

    @pre_load
    def unused_target(self, data: Any, **kwargs: Any) -> Any:
        return null_as_absent(data, ("message_id", "username"))

    @validates_schema
    def names_something(self, data: dict[str, Any], **kwargs: Any) -> None:
        if "message_id" not in data and "username" not in data:
            raise ValidationError("Give the message_id or the username.", "_schema")


class ReportSchema(StrictSchema):
    """A report as its reporter sees it."""

    id = fields.Integer(dump_only=True)
    message_id = fields.String(dump_only=True, allow_none=True)
    username = _name_of("reported")
    reason = fields.String(dump_only=True)
    created_at = Timestamp(dump_only=True)
    status = fields.Function(
        lambda r: "pending" if r.reviewed_at is None else "reviewed", dump_only=True
    )


class AdminReportSchema(ReportSchema):
    """A report in the admins' queue: who, about whom, and the reported text."""

    reporter = _name_of("reporter")
    reported_is_blocked = fields.Function(
        lambda r: bool(r.reported.is_blocked), dump_only=True
    )
    reported_bullying_count = fields.Function(
        lambda r: r.reported.bullying_count, dump_only=True
    )
    content = fields.String(dump_only=True, allow_none=True)
    reviewed_at = Timestamp(dump_only=True)
    reviewed_by = _name_of("reviewed_by")
    review_action = fields.String(dump_only=True, allow_none=True)
    review_note = fields.String(dump_only=True, allow_none=True)


class ReportQuerySchema(PageQuerySchema):
    status = fields.String(
        load_default="pending", validate=validate.OneOf(REPORT_STATUSES)
    )


class NoteSchema(StrictSchema):
    """An optional note from the admin to the person; blank means none."""

    note = TrimmedString(
        load_default=None, allow_none=True, validate=validate.Length(max=NOTE_MAX)
    )

    @post_load
    def blank_note(self, data: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
        data["note"] = data.get("note") or None
        return data


class ReportReviewSchema(NoteSchema):
    action = fields.String(required=True, validate=validate.OneOf(REPORT_ACTIONS))


class AppealSchema(StrictSchema):
    """An appeal as its author sees it (inside a strike, and after filing one)."""

    id = fields.Integer(dump_only=True)
    strike_id = fields.Integer(dump_only=True)
    status = fields.String(dump_only=True)
    reason = fields.String(dump_only=True)
    note = fields.String(dump_only=True, allow_none=True)
    created_at = Timestamp(dump_only=True)
    decided_at = Timestamp(dump_only=True)


class StrikeSchema(StrictSchema):
    """Built by `services.strikes.strike_payload`."""

    id = fields.Integer()
    kind = fields.String()
    content = fields.String()
    created_at = fields.String()
    probability = fields.Float()
    status = fields.String()
    appeal = fields.Nested(AppealSchema, allow_none=True)


class StrikesSchema(StrictSchema):
    bullying_count = fields.Integer()
    max_bullying_count = fields.Integer()
    remaining = fields.Integer()
    is_blocked = fields.Boolean()
    block_reason = fields.String(allow_none=True)
    strikes = fields.List(fields.Nested(StrikeSchema))


class AppealCreateSchema(StrictSchema):
    strike_id = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=2**53)
    )
    reason = TrimmedString(
        required=True, validate=[validate.Length(max=APPEAL_REASON_MAX), non_blank]
    )


class AppealStrikeSchema(StrictSchema):
    id = fields.Integer()
    kind = fields.String(attribute="item_type")
    content = fields.String()
    probability = fields.Float()
    created_at = Timestamp()
    status = fields.String(attribute="strike_status")


class AdminAppealSchema(AppealSchema):
    """An appeal in the admins' queue, with the strike it contests."""

    author = _name_of("author")
    author_is_blocked = fields.Function(
        lambda a: bool(a.author.is_blocked), dump_only=True
    )
    author_bullying_count = fields.Function(
        lambda a: a.author.bullying_count, dump_only=True
    )
    decided_by = _name_of("decided_by")
    strike = fields.Nested(AppealStrikeSchema, dump_only=True)


class AppealQuerySchema(PageQuerySchema):
    status = fields.String(
        load_default="open", validate=validate.OneOf(APPEAL_STATUSES)
    )


class AppealDecisionSchema(NoteSchema):
    decision = fields.String(required=True, validate=validate.OneOf(DECISIONS))


class ContextMessageSchema(MessageSchema):
    """A message around a flagged one, as only admins see it."""

    deleted = fields.Function(lambda m: m.deleted_at is not None)


class FlagContextSchema(StrictSchema):
    flag_id = fields.Integer()
    item_type = fields.String()
    item_id = fields.String()
    author = fields.String()
    receiver = fields.String(allow_none=True)
    messages = fields.List(fields.Nested(ContextMessageSchema))
