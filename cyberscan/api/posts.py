"""Posts (API.md §3)."""

from __future__ import annotations

from typing import Any

from flask_jwt_extended import current_user, jwt_required
from flask_smorest import Blueprint

from cyberscan.models import Post
from cyberscan.schemas.common import PageQuerySchema, page_of
from cyberscan.schemas.post import DeletedSchema, PostCreateSchema, PostSchema
from cyberscan.services import posts
from cyberscan.services.pagination import Page

bp = Blueprint("posts", __name__, url_prefix="/api", description="Posts")


@bp.post("/post")
@jwt_required()
@bp.arguments(PostCreateSchema, location="json")
@bp.response(201, PostSchema)
def create_post(payload: dict[str, Any]) -> Post:
    """Create a post authored by the current user; it is scored like a message."""
    return posts.create_post(author=current_user, **payload)


@bp.get("/posts")
@jwt_required()
@bp.arguments(PageQuerySchema, location="query")
@bp.response(200, page_of(PostSchema))
def list_posts(query: dict[str, Any]) -> Page[Post]:
    """The feed, newest first, cursor-paginated."""
    return posts.list_posts(**query)


@bp.get("/post/<int:post_id>")
@jwt_required()
@bp.response(200, PostSchema)
def get_post(post_id: int) -> Post:
    """One post."""
    return posts.get_post(post_id)


@bp.delete("/post/<int:post_id>")
@jwt_required()
@bp.response(200, DeletedSchema)
def delete_post(post_id: int) -> dict[str, Any]:
    """Delete a post and its comments (its author or an admin)."""
    posts.delete_post(current_user, post_id)
    return {"id": post_id, "message": "Post deleted."}
