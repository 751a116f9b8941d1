"""Comments (API.md §3)."""

from __future__ import annotations

from typing import Any

from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint

from cyberscan.models import Comment
from cyberscan.schemas.common import PageQuerySchema, page_of
from cyberscan.schemas.post import CommentCreateSchema, CommentSchema, DeletedSchema
from cyberscan.services import comments
from cyberscan.services.pagination import Page

bp = Blueprint("comments", __name__, url_prefix="/api", description="Comments on posts")


@bp.post("/comment/<int:post_id>")
@jwt_required()
@bp.arguments(CommentCreateSchema, location="json")
@bp.response(201, CommentSchema)
def create_comment(payload: dict[str, Any], post_id: int) -> Comment:
    """Comment on a post as the current user; the comment is scored like a message."""
    return comments.create_comment(author=current_user, post_id=post_id, **payload)


@bp.get("/post/<int:post_id>/comments")
@jwt_required()
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, page_of(CommentSchema))
def list_comments(query: dict[str, Any], post_id: int) -> Page[Comment]:
    """A post's comments, oldest first, cursor-paginated."""
    return comments.list_comments(post_id, **query)


@bp.delete("/comment/<int:comment_id>")
@jwt_required()
@bp.response(200, DeletedSchema)
def delete_comment(comment_id: int) -> dict[str, Any]:
    """Delete a comment (its author or an admin)."""
    comments.delete_comment(current_user, comment_id)
    return {"id": comment_id, "message": "Comment deleted."}
