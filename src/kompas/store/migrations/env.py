"""Alembic environment: kompas hands in its own connection (see ``kompas.store.db``)."""

from alembic import context

from kompas.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
