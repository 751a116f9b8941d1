"""The error body, apart from the other schemas: extensions.py needs it and nothing else."""

from marshmallow import Schema, fields


class ErrorSchema(Schema):
    """The error body of API.md §1 (documents every error response)."""

    code = fields.Integer(metadata={"description": "HTTP status"})
    status = fields.String(metadata={"description": "HTTP status phrase"})
    error = fields.String(metadata={"description": "Stable snake_case error code"})
    message = fields.String(metadata={"description": "A sentence a person can read"})
    errors = fields.Dict(metadata={"description": "Validation errors by location"})
