"""Posts and comments (API.md §3)."""

from __future__ import annotations

from typing import Any

from flask import current_app
from marshmallow import ValidationError, fields, validates

from cyberscan.schemas.common import StrictSchema, Timestamp, TrimmedString, non_blank


def _author(obj: Any) -> str:
    return obj.author.username


def _check_length(value: str, setting: str) -> None:
    """Lengths come from config (MAX_POST_LENGTH / MAX_COMMENT_LENGTH), read per request."""
    limit = int(current_app.config[setting])
    if len(value) > limit:
        raise ValidationError(f"Longer than maximum length {limit}.")


class PostSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    author = fields.Function(_author, dump_only=True)
    content = fields.String(dump_only=True)
    created_at = Timestamp(dump_only=True)
    is_bullying = fields.Boolean(dump_only=True)
    bullying_probability = fields.Float(dump_only=True)
    model_version = fields.String(dump_only=True)
    comment_count = fields.Integer(dump_only=True)


class PostCreateSchema(StrictSchema):
    content = TrimmedString(required=True, validate=non_blank)

    @validates("content")
    def check_length(self, value: str, **kwargs: Any) -> None:
        _check_length(value, "MAX_POST_LENGTH")


class CommentSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    post_id = fields.Integer(dump_only=True)
    author = fields.Function(_author, dump_only=True)
    content = fields.String(dump_only=True)
    created_at = Timestamp(dump_only=True)
    is_bullying = fields.Boolean(dump_only=True)
    bullying_probability = fields.Float(dump_only=True)
    model_version = fields.String(dump_only=True)


class CommentCreateSchema(StrictSchema):
    content = TrimmedString(required=True, validate=non_blank)

    @validates("content")
    def check_length(self, value: str, **kwargs: Any) -> None:
        _check_length(value, "MAX_COMMENT_LENGTH")


class DeletedSchema(StrictSchema):
    """What a DELETE answers: the id that is gone and a sentence."""

    id = fields.Integer(dump_only=True)
    message = fields.String(dump_only=True)
