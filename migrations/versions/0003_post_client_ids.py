"""post and comment client ids

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04 16:30:00.000000

"""

from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "spent_client_ids",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime()
            .with_variant(mysql.DATETIME(fsp=6), "mariadb")
            .with_variant(mysql.DATETIME(fsp=6), "mysql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["users.id"],
            name=op.f("fk_spent_client_ids_author_id_users"),
        ),
        sa.PrimaryKeyConstraint(
            "kind", "author_id", "client_id", name=op.f("pk_spent_client_ids")
        ),
        mysql_charset="utf8mb4",
        mysql_collate="utf8mb4_unicode_ci",
    )
    # Existing posts and comments have no client_id (NULL): the unique keys hold at once.
    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_comments_author_id_client_id"), ["author_id", "client_id"]
        )

    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_id", sa.String(length=64), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_posts_author_id_client_id"), ["author_id", "client_id"]
        )


def downgrade():
    with op.batch_alter_table("posts", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_posts_author_id_client_id"), type_="unique"
        )
        batch_op.drop_column("client_id")

    with op.batch_alter_table("comments", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_comments_author_id_client_id"), type_="unique"
        )
        batch_op.drop_column("client_id")

    op.drop_table("spent_client_ids")
