import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from config import sqlalchemy_engine_options
from cyberscan.cli import migration_lock

# this is the Alembic Config object, which provides
# access to the values within the .ini file in use.
config = context.config

# Logging from alembic.ini only when nobody set it up: `flask db ...` does not,
# run.py does (cyberscan/serve.py configure_logging), and a second root handler
# would write every record of the server twice.
if not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")
# run.py upgrades on every start and then prints one line (-x quiet=true).
if context.get_x_argument(as_dictionary=True).get("quiet"):
    logging.getLogger("alembic").setLevel(logging.WARNING)


def get_engine():
    return current_app.extensions["migrate"].db.engine


def get_engine_url():
    try:
        return get_engine().url.render_as_string(hide_password=False).replace("%", "%%")
    except AttributeError:
        return str(get_engine().url).replace("%", "%%")


# add your model's MetaData object here
# for 'autogenerate' support
# from myapp import mymodel
# target_metadata = mymodel.Base.metadata
config.set_main_option("sqlalchemy.url", get_engine_url())
target_db = current_app.extensions["migrate"].db

# other values from the config, defined by the needs of env.py,
# can be acquired:
# my_important_option = config.get_main_option("my_important_option")
# ... etc.


def get_metadata():
    if hasattr(target_db, "metadatas"):
        return target_db.metadatas[None]
    return target_db.metadata


def run_migrations_offline():
    """Run migrations in 'offline' mode.

    This configures the context with just a URL
    and not an Engine, though an Engine is acceptable
    here as well.  By skipping the Engine creation
    we don't even need a DBAPI to be available.

    Calls to context.execute() here emit the given string to the
    script output.

    """
    url = config.get_main_option("sqlalchemy.url")
    context.configure(url=url, target_metadata=get_metadata(), literal_binds=True)

    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run migrations in 'online' mode.

    In this scenario we need to create an Engine
    and associate a connection with the context.

    """

    # this callback is used to prevent an auto-migration from being generated
    # when there are no changes to the schema
    # reference: http://alembic.zzzcomputing.com/en/latest/cookbook.html
    def process_revision_directives(context, revision, directives):
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = current_app.extensions["migrate"].configure_args
    if conf_args.get("process_revision_directives") is None:
        conf_args["process_revision_directives"] = process_revision_directives

    connectable = get_engine()
    if connectable.dialect.name == "mysql":
        # The app's connections time out reads (DATABASE_READ_TIMEOUT); a migration's
        # must not: one ALTER TABLE on a large table may take minutes, and waiting for
        # the migration lock takes up to MIGRATION_LOCK_SECONDS.
        options = sqlalchemy_engine_options(
            connectable.url.render_as_string(hide_password=False),
            connect_timeout=current_app.config["DATABASE_CONNECT_TIMEOUT"],
            read_timeout=None,
        )
        connectable = create_engine(
            connectable.url, poolclass=NullPool, connect_args=options["connect_args"]
        )

    with connectable.connect() as connection, migration_lock(connection):
        context.configure(
            connection=connection, target_metadata=get_metadata(), **conf_args
        )

        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
