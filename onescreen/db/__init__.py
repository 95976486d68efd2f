"""The system of record: SQLAlchemy models, engine/session helpers and Alembic migrations."""
