"""
Writes the SQLite schema a fresh Prefect server creates, by replaying Prefect's own SQLite alembic
migrations on an empty database. Used once to make prefect-3.0.0-sqlite.sql (the benchmark itself
needs no Python); kept so the file can be checked or remade for another tag.

  git -C PREFECT_REPO archive 3.0.0 src/prefect/server/database/migrations/versions/sqlite | tar -x -C /tmp/mig
  python3 -m venv /tmp/venv && /tmp/venv/bin/pip install sqlalchemy==2.0.54 alembic==1.20.0
  /tmp/venv/bin/python bench/queries/schema-from-migrations.py /tmp/mig/src/.../versions/sqlite /tmp/prefect.db

Prefect itself is not installed: its modules are stood in for. The column types the migrations
use (UUID, Timestamp, JSON, Pydantic) are given their SQLite forms (CHAR(36), DATETIME, JSON,
JSON), and every other `prefect.*` name is an inert placeholder; the data migrations they appear
in find no rows in an empty database.
"""
import glob
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types

import sqlalchemy as sa
from sqlalchemy.dialects import sqlite
from sqlalchemy.types import CHAR, TypeDecorator


class _PlaceholderMeta(type):
    def __getattr__(cls, name):
        return cls

    def __getitem__(cls, key):
        return cls


class Placeholder(metaclass=_PlaceholderMeta):
    def __init__(self, *args, **kwargs):
        pass

    def __call__(self, *args, **kwargs):
        return Placeholder()

    def __getattr__(self, name):
        return Placeholder()

    def __getitem__(self, key):
        return Placeholder()

    def __iter__(self):
        return iter(())


def _sqlite_type(name, impl, dialect_impl):
    def __init__(self, *args, **kwargs):
        TypeDecorator.__init__(self)

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(dialect_impl())

    return type(name, (TypeDecorator,), {"impl": impl, "cache_ok": True, "__init__": __init__, "load_dialect_impl": load_dialect_impl})


DATABASE_TYPES = {
    "UUID": _sqlite_type("UUID", CHAR(36), lambda: CHAR(36)),
    "Timestamp": _sqlite_type("Timestamp", sa.TIMESTAMP(timezone=True), sqlite.DATETIME),
    "JSON": _sqlite_type("JSON", sa.JSON, lambda: sqlite.JSON(none_as_null=True)),
    "Pydantic": _sqlite_type("Pydantic", sa.JSON, lambda: sqlite.JSON(none_as_null=True)),
}


class PrefectStandIn(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name == "prefect" or name.startswith("prefect."):
            return importlib.machinery.ModuleSpec(name, self, is_package=True)

    def create_module(self, spec):
        module = types.ModuleType(spec.name)
        module.__path__ = []
        if spec.name == "prefect.server.utilities.database":
            module.__dict__.update(DATABASE_TYPES)
        module.__getattr__ = lambda name: Placeholder
        return module

    def exec_module(self, module):
        pass


sys.meta_path.insert(0, PrefectStandIn())

from alembic.migration import MigrationContext  # noqa: E402
from alembic.operations import Operations  # noqa: E402


def main(versions_dir, out):
    by_revision = {}
    for path in sorted(glob.glob(os.path.join(versions_dir, "*.py"))):
        spec = importlib.util.spec_from_file_location(os.path.basename(path)[:-3], path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        by_revision[module.revision] = module
    children = {}
    for module in by_revision.values():
        children.setdefault(module.down_revision, []).append(module)
    order, revision = [], None
    while revision in children:
        (child,) = children[revision]
        order.append(child)
        revision = child.revision
    assert len(order) == len(by_revision), "migrations do not form one chain"
    if os.path.exists(out):
        os.remove(out)
    with sa.create_engine(f"sqlite:///{out}").connect() as conn:
        # As Prefect's env.py: batch mode for SQLite, one transaction per migration.
        context = MigrationContext.configure(conn, opts={"render_as_batch": True, "transaction_per_migration": True})
        with Operations.context(context):
            for module in order:
                with context.begin_transaction(_per_migration=True):
                    module.upgrade()
    print(f"{len(order)} migrations applied, head {order[-1].revision}: {out}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
