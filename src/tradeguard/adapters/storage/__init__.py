"""SQLAlchemy 2 storage: Core tables, stores implementing the domain ports, units of work, Alembic."""
