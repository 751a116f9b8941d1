"""Posts and comments (API.md §3)."""

from __future__ import annotations

from typing import Any

from marshmallow import fields, validates

from cyberscan.schemas.common import (
    ClientIdSchema,
    StrictSchema,
    Timestamp,
    TrimmedString,
    check_configured_length,
    non_blank,
)


def _author(obj: Any) -> str:
    return obj.author.username


class ScoredItemSchema(StrictSchema):
    """What posts and comments share: the text, its author and the classifier's verdict."""

    id = fields.Integer(dump_only=True)
    author = fields.Function(_author, dump_only=True)
    content = fields.String(dump_only=True)
    created_at = Timestamp(dump_only=True)
    is_bullying = fields.Boolean(dump_only=True)
    bullying_probability = fields.Float(dump_only=True)
    model_version = fields.String(dump_only=True)
    client_id = fields.String(dump_only=True, allow_none=True)


class PostSchema(ScoredItemSchema):
    comment_count = fields.Integer(dump_only=True)


class CommentSchema(ScoredItemSchema):
    post_id = fields.Integer(dump_only=True)


class ContentSchema(ClientIdSchema):
    """A body of `{content, client_id?}`: the content trimmed, non-empty and within the
    configured length; a repeated client_id answers the first item it stored."""

    length_setting = "MAX_POST_LENGTH"
    content = TrimmedString(required=True, validate=non_blank)

    @validates("content")
    def check_length(self, value: str, **kwargs: Any) -> None:
        check_configured_length(value, self.length_setting)


class PostCreateSchema(ContentSchema):
    length_setting = "MAX_POST_LENGTH"


class CommentCreateSchema(ContentSchema):
    length_setting = "MAX_COMMENT_LENGTH"


class DeletedSchema(StrictSchema):
    """What a DELETE answers: the id that is gone and a sentence."""

    id = fields.Integer(dump_only=True)
    message = fields.String(dump_only=True)
