"""Comments on posts: scored like messages, listed oldest first."""

from __future__ import annotations

from sqlalchemy import select

from cyberscan.errors import Forbidden
from cyberscan.extensions import db
from cyberscan.models import COMMENT, Comment, User
from cyberscan.services import audit, client_ids, moderation, posts, rows
from cyberscan.services.pagination import Page, keyset_page


def create_comment(
    author: User, post_id: int, content: str, client_id: str | None = None
) -> Comment:
    """Score, store and strike in one transaction; warn, block and tell admins after it.

    A repeated client_id answers the comment it stored (whatever the text or post): no
    second comment, strike or notification; NotFound when it was deleted since.
    """

    def build() -> Comment:
        post = posts.get_post(post_id)
        return Comment(
            post_id=post.id, author_id=author.id, content=content, client_id=client_id
        )

    # The per-user sending limit, with a budget of its own for comments.
    return moderation.publish(
        author,
        COMMENT,
        build,
        budget="comment",
        existing=client_ids.first_copy(Comment, COMMENT, author.id, client_id),
    )


def get_comment(comment_id: int) -> Comment:
    """One comment, or NotFound."""
    return rows.found(Comment, comment_id, f"No comment with id {comment_id}.")


def list_comments(post_id: int, limit: int, cursor: str | None = None) -> Page[Comment]:
    """A post's comments, oldest first; NotFound when the post does not exist."""
    posts.get_post(post_id)
    return keyset_page(
        select(Comment).where(Comment.post_id == post_id),
        Comment.id,
        limit=limit,
        cursor=cursor,
        newest_first=False,
    )


def delete_comment(actor: User, comment_id: int, reason: str | None = None) -> None:
    """Delete a comment; only its author or an admin may."""
    comment = get_comment(comment_id)
    if comment.author_id != actor.id and not actor.is_admin:
        raise Forbidden("Only the author or an admin can delete this comment.")
    remove_comment(comment)
    if comment.author_id != actor.id:
        audit.record(
            actor,
            "delete_comment",
            comment.author_id,
            reason,
            comment_id=comment.id,
            post_id=comment.post_id,
        )
    db.session.commit()


def remove_comment(comment: Comment) -> None:
    """Stage the deletion of a comment; its client_id stays spent."""
    client_ids.spend(Comment, COMMENT, Comment.id == comment.id)
    db.session.delete(comment)
