"""Accounts and auth payloads (API.md §2)."""

from __future__ import annotations

from typing import Any

from marshmallow import ValidationError, fields, pre_load, validate, validates_schema

from cyberscan.schemas.common import (
    StrictSchema,
    Timestamp,
    null_as_absent,
    visible,
)

# \Z, not $: Python's $ also matches before a final newline, and "root\n" would pass.
USERNAME = validate.Regexp(
    r"^[A-Za-z0-9_.-]{3,32}\Z",
    error="3 to 32 characters: letters, digits, '_', '.' or '-'.",
)

PASSWORD_MIN, PASSWORD_MAX = 8, 256
BLANK_PASSWORD = "Must not be only white space or invisible characters."


def shows_something(value: str) -> None:
    """Eight spaces are eight characters, but no secret: a new password must hold a
    character that is neither white space nor invisible (spaces among others stay)."""
    if not visible(value):
        raise ValidationError(BLANK_PASSWORD)


def new_password_field() -> fields.String:
    """A password being set (register, a change, the operator's commands): one rule."""
    return fields.String(
        required=True,
        load_only=True,
        validate=[validate.Length(min=PASSWORD_MIN, max=PASSWORD_MAX), shows_something],
    )


class UserSchema(StrictSchema):
    id = fields.Integer(dump_only=True)
    username = fields.String(dump_only=True)
    created_at = Timestamp(dump_only=True)
    is_admin = fields.Boolean(dump_only=True)
    is_blocked = fields.Boolean(dump_only=True)
    bullying_count = fields.Integer(dump_only=True)


class UserPrivateSchema(UserSchema):
    """The user as seen by that user or an admin."""

    email = fields.String(dump_only=True)
    muted_until = Timestamp(dump_only=True)


class UserEnvelopeSchema(StrictSchema):
    user = fields.Nested(UserPrivateSchema)


class RegisterSchema(StrictSchema):
    username = fields.String(required=True, validate=USERNAME)
    email = fields.Email(required=True, validate=validate.Length(max=254))
    password = new_password_field()


class SpaceTrimmed(fields.String):
    """A string without the spaces around it: a phone keyboard's suggestion ends with
    one. Spaces only: a line break is no keyboard's, and "root\n" stays no one's name."""

    def _deserialize(self, value, attr, data, **kwargs):  # noqa: ANN001, ANN202
        return super()._deserialize(value, attr, data, **kwargs).strip(" ")


class LoginSchema(StrictSchema):
    # Neither a username nor an email holds a space; the password is taken as typed.
    username = SpaceTrimmed(validate=validate.Length(min=1, max=254))
    email = SpaceTrimmed(validate=validate.Length(min=1, max=254))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(max=PASSWORD_MAX)
    )

    @pre_load
    def unused_identifier(self, data: Any, **kwargs: Any) -> Any:
        return null_as_absent(data, ("username", "email"))

    @validates_schema
    def one_identifier(self, data: dict[str, Any], **kwargs: Any) -> None:
        if ("username" in data) == ("email" in data):
            raise ValidationError("Give either email or username.", "_schema")


class LoginResultSchema(StrictSchema):
    access_token = fields.String()
    refresh_token = fields.String()
    username = fields.String()
    user = fields.Nested(UserPrivateSchema)


class AccessTokenSchema(StrictSchema):
    access_token = fields.String()


class LogoutResultSchema(StrictSchema):
    message = fields.String()
