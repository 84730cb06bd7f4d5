"""face images, encrypted at rest

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "face_images",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("person_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("certification_id", sa.String(length=36), nullable=True),
        sa.Column("ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("media_type", sa.String(length=32), nullable=False),
        sa.Column("consent", sa.Text(), nullable=True),
        sa.Column("purge_after", sa.Date(), nullable=True),
        sa.Column("purged_at", sa.DateTime(), nullable=True),
        sa.Column("operator", sa.String(length=64), nullable=True),
        sa.Column("workstation", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["persons.id"], name=op.f("fk_face_images_person_id_persons")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_face_images")),
    )
    with op.batch_alter_table("face_images", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_face_images_person_id"), ["person_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_face_images_purge_after"), ["purge_after"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        # the central change log of revision 0003 captures this table too
        op.execute("CREATE TRIGGER face_images_capture AFTER INSERT OR UPDATE ON face_images "
                   "FOR EACH ROW EXECUTE FUNCTION certdesk_capture('id')")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS face_images_capture ON face_images")
    op.drop_table("face_images")
