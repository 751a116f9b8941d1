"""Posts: scored like messages, listed newest first, deleted by their author or an admin."""

from __future__ import annotations

from sqlalchemy import delete, select

from cyberscan.errors import Forbidden
from cyberscan.extensions import db
from cyberscan.models import COMMENT, POST, Comment, Post, User
from cyberscan.services import audit, client_ids, moderation, rows
from cyberscan.services.pagination import Page, keyset_page

# Ids beyond a signed 32-bit INT cannot exist; SQLite would raise on them instead.


def create_post(author: User, content: str, client_id: str | None = None) -> Post:
    """Score, store and strike in one transaction; warn, block and tell admins after it.

    A repeated client_id answers the post it stored (whatever the text): no second
    post, strike or notification; NotFound when that post was deleted since.
    """
    # The per-user sending limit, with a budget of its own for posts.
    return moderation.publish(
        author,
        POST,
        lambda: Post(author_id=author.id, content=content, client_id=client_id),
        budget="post",
        existing=client_ids.first_copy(Post, POST, author.id, client_id),
    )


def get_post(post_id: int) -> Post:
    """One post with its author and comment count, or NotFound."""
    return rows.found(Post, post_id, f"No post with id {post_id}.")


def list_posts(limit: int, cursor: str | None = None) -> Page[Post]:
    """The feed, newest first; author and comment count come in the same query."""
    return keyset_page(
        select(Post), Post.id, limit=limit, cursor=cursor, newest_first=True
    )


def delete_post(actor: User, post_id: int, reason: str | None = None) -> None:
    """Delete a post and its comments; only its author or an admin may."""
    post = get_post(post_id)
    if post.author_id != actor.id and not actor.is_admin:
        raise Forbidden("Only the author or an admin can delete this post.")
    remove_post(post)
    if post.author_id != actor.id:
        audit.record(actor, "delete_post", post.author_id, reason, post_id=post.id)
    db.session.commit()


def remove_post(post: Post) -> None:
    """Stage the deletion of a post and its comments (SQLite enforces no cascades)."""
    client_ids.spend(Comment, COMMENT, Comment.post_id == post.id)
    client_ids.spend(Post, POST, Post.id == post.id)
    db.session.execute(delete(Comment).where(Comment.post_id == post.id))
    db.session.delete(post)
