"""The ledger: its currency, accounts, immutable transfers of balanced postings, payout details, batches and lines,
and share receipts; with the triggers that keep account totals and refuse any change to posted entries.

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | None = None
depends_on: str | None = None

IMMUTABLE = ("ledger_transfer", "ledger_posting", "share_receipt")

# The database keeps every account's totals: a posting adds its amount to one account's debits and the other's
# credits, and the accounts' CHECKs (no negative totals, no overdraft) judge the result inside the same INSERT.
SQLITE_TRIGGERS = [
    """CREATE TRIGGER ledger_posting_totals AFTER INSERT ON ledger_posting BEGIN
         UPDATE ledger_account SET debits_posted = debits_posted + NEW.amount WHERE id = NEW.debit_account_id;
         UPDATE ledger_account SET credits_posted = credits_posted + NEW.amount WHERE id = NEW.credit_account_id;
       END""",
    *(
        f"""CREATE TRIGGER {table}_no_{verb} BEFORE {verb.upper()} ON {table} BEGIN
              SELECT RAISE(ABORT, '{table} rows are immutable: post a reversing transfer instead');
            END"""
        for table in IMMUTABLE
        for verb in ("update", "delete")
    ),
    """CREATE TRIGGER ledger_account_no_delete BEFORE DELETE ON ledger_account BEGIN
         SELECT RAISE(ABORT, 'ledger accounts are never deleted');
       END""",
]
POSTGRES_TRIGGERS = [
    """CREATE FUNCTION ledger_posting_totals() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         UPDATE ledger_account SET debits_posted = debits_posted + NEW.amount WHERE id = NEW.debit_account_id;
         UPDATE ledger_account SET credits_posted = credits_posted + NEW.amount WHERE id = NEW.credit_account_id;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER ledger_posting_totals AFTER INSERT ON ledger_posting
       FOR EACH ROW EXECUTE FUNCTION ledger_posting_totals()""",
    """CREATE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         RAISE EXCEPTION '% rows are immutable: post a reversing transfer instead', TG_TABLE_NAME;
       END $$""",
    *(
        f"""CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table}
            FOR EACH ROW EXECUTE FUNCTION ledger_immutable()"""
        for table in IMMUTABLE
    ),
    """CREATE TRIGGER ledger_account_no_delete BEFORE DELETE ON ledger_account
       FOR EACH ROW EXECUTE FUNCTION ledger_immutable()""",
    # Totals change only from the posting trigger (nested one level down), never by a statement of their own.
    """CREATE FUNCTION ledger_account_totals_guard() RETURNS trigger LANGUAGE plpgsql AS $$
       BEGIN
         IF pg_trigger_depth() < 2 THEN
           RAISE EXCEPTION 'ledger account totals change only by posting a transfer';
         END IF;
         RETURN NEW;
       END $$""",
    """CREATE TRIGGER ledger_account_totals_guard BEFORE UPDATE ON ledger_account FOR EACH ROW
       WHEN (OLD.debits_posted IS DISTINCT FROM NEW.debits_posted
             OR OLD.credits_posted IS DISTINCT FROM NEW.credits_posted
             OR OLD.no_overdraft IS DISTINCT FROM NEW.no_overdraft)
       EXECUTE FUNCTION ledger_account_totals_guard()""",
]


def _utc(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "ledger_book",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("minor_units", sa.Integer(), nullable=False),
        _utc("created_utc"),
        sa.CheckConstraint("id = 1", name=op.f("ck_ledger_book_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_book")),
    )
    op.create_table(
        "ledger_account",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner_id", sa.String(36), nullable=True),
        sa.Column("no_overdraft", sa.Boolean(), nullable=False),
        sa.Column("debits_posted", sa.BigInteger(), nullable=False),
        sa.Column("credits_posted", sa.BigInteger(), nullable=False),
        _utc("created_utc"),
        sa.CheckConstraint(
            "debits_posted >= 0 AND credits_posted >= 0", name=op.f("ck_ledger_account_totals_not_negative")
        ),
        sa.CheckConstraint(
            "NOT no_overdraft OR debits_posted <= credits_posted", name=op.f("ck_ledger_account_no_overdraft")
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["member.id"], name=op.f("fk_ledger_account_owner_id_member"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_account")),
    )
    op.create_index("ix_ledger_account_kind_owner_id", "ledger_account", ["kind", "owner_id"], unique=True)
    op.create_table(
        "ledger_transfer",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("proposal_id", sa.String(36), nullable=True),
        sa.Column("batch_id", sa.String(36), nullable=True),
        sa.Column("reverses", sa.String(36), nullable=True),
        _utc("created_utc"),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_transfer_amount_positive")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_transfer")),
        sa.UniqueConstraint("key", name=op.f("uq_ledger_transfer_key")),
    )
    op.create_index(op.f("ix_ledger_transfer_kind"), "ledger_transfer", ["kind"])
    op.create_index(op.f("ix_ledger_transfer_proposal_id"), "ledger_transfer", ["proposal_id"])
    op.create_index(op.f("ix_ledger_transfer_created_utc"), "ledger_transfer", ["created_utc"])
    op.create_table(
        "ledger_posting",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transfer_id", sa.String(36), nullable=False),
        sa.Column("debit_account_id", sa.String(40), nullable=False),
        sa.Column("credit_account_id", sa.String(40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount > 0", name=op.f("ck_ledger_posting_amount_positive")),
        sa.CheckConstraint("debit_account_id <> credit_account_id", name=op.f("ck_ledger_posting_two_accounts")),
        sa.ForeignKeyConstraint(
            ["transfer_id"], ["ledger_transfer.id"], name=op.f("fk_ledger_posting_transfer_id_ledger_transfer")
        ),
        sa.ForeignKeyConstraint(
            ["debit_account_id"], ["ledger_account.id"], name=op.f("fk_ledger_posting_debit_account_id_ledger_account")
        ),
        sa.ForeignKeyConstraint(
            ["credit_account_id"],
            ["ledger_account.id"],
            name=op.f("fk_ledger_posting_credit_account_id_ledger_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_posting")),
    )
    for column in ("transfer_id", "debit_account_id", "credit_account_id"):
        op.create_index(op.f(f"ix_ledger_posting_{column}"), "ledger_posting", [column])
    op.create_table(
        "payout_details",
        sa.Column("member_id", sa.String(36), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("sealed", sa.LargeBinary(), nullable=False),
        _utc("updated_utc"),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_payout_details_member_id_member"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("member_id", name=op.f("pk_payout_details")),
    )
    op.create_table(
        "payout_batch",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=True),
        _utc("created_utc"),
        _utc("sent_utc", nullable=True),
        sa.ForeignKeyConstraint(
            ["created_by"], ["member.id"], name=op.f("fk_payout_batch_created_by_member"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_batch")),
    )
    op.create_table(
        "payout_line",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("amount", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(8), nullable=False),
        _utc("decided_utc", nullable=True),
        sa.CheckConstraint("amount > 0", name=op.f("ck_payout_line_amount_positive")),
        sa.ForeignKeyConstraint(["batch_id"], ["payout_batch.id"], name=op.f("fk_payout_line_batch_id_payout_batch")),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ledger_account.id"], name=op.f("fk_payout_line_account_id_ledger_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_line")),
    )
    op.create_index(op.f("ix_payout_line_batch_id"), "payout_line", ["batch_id"])
    op.create_index(op.f("ix_payout_line_account_id"), "payout_line", ["account_id"])
    op.create_index("ix_payout_line_batch_id_account_id", "payout_line", ["batch_id", "account_id"], unique=True)
    op.create_table(
        "share_receipt",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("transfer_id", sa.String(36), nullable=False),
        sa.Column("account_id", sa.String(40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("audit_seq", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["transfer_id"], ["ledger_transfer.id"], name=op.f("fk_share_receipt_transfer_id_ledger_transfer")
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["ledger_account.id"], name=op.f("fk_share_receipt_account_id_ledger_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_share_receipt")),
    )
    op.create_index(op.f("ix_share_receipt_account_id"), "share_receipt", ["account_id"])
    op.create_index("ix_share_receipt_transfer_id_position", "share_receipt", ["transfer_id", "position"], unique=True)
    triggers = POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    for table in ("share_receipt", "payout_line", "payout_batch", "payout_details", "ledger_posting"):
        op.drop_table(table)
    op.drop_table("ledger_transfer")
    op.drop_table("ledger_account")
    op.drop_table("ledger_book")
    if op.get_bind().dialect.name == "postgresql":
        for function in ("ledger_posting_totals", "ledger_immutable", "ledger_account_totals_guard"):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
