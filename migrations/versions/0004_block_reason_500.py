"""a block's reason as long as the API takes (500)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 18:20:00.000000

"""

from alembic import op
import sqlalchemy as sa

# revision identifiers, used by Alembic.
revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "blocked_reason",
            existing_type=sa.String(length=255),
            type_=sa.String(length=500),
            existing_nullable=True,
        )


def downgrade():
    # A reason over 255 characters is cut there, as the server cut it before.
    users = sa.table("users", sa.column("blocked_reason", sa.String(length=500)))
    op.execute(
        users.update()
        .where(sa.func.length(users.c.blocked_reason) > 255)
        .values(blocked_reason=sa.func.substr(users.c.blocked_reason, 1, 255))
    )
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.alter_column(
            "blocked_reason",
            existing_type=sa.String(length=500),
            type_=sa.String(length=255),
            existing_nullable=True,
        )
