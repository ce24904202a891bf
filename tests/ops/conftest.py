"""Whole instances for the backup, restore and crash tests: a database and a var directory each, driven by
real subprocesses (``hocba …`` and ``ops_worker.py``).

The database is a file for SQLite (WAL, as in production) and, when the suite runs on PostgreSQL, a new
database in the suite's own cluster (CREATE DATABASE through psycopg), dropped at the end of the session.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sqlite3
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

WORKER = Path(__file__).with_name("ops_worker.py")
TIMEOUT = 600


@dataclasses.dataclass
class Instance:
    name: str
    url: str
    var_dir: Path

    @property
    def documents(self) -> Path:
        return self.var_dir / "documents"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("HOCBA_")}
        return {**env, "HOCBA_DATABASE_URL": self.url, "HOCBA_VAR_DIR": str(self.var_dir),
                "HOCBA_SECRET_KEY": "ops-tests-secret", "HOCBA_FAST_PASSWORD_HASHER": "1",
                "DJANGO_SETTINGS_MODULE": "hocba.web.settings", **extra}

    def hocba(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess:
        """``hocba ARGS`` in this instance; the completed process (the caller checks its status)."""
        return subprocess.run([sys.executable, "-m", "hocba.cli", *args], env=self.env(**extra_env),
                              capture_output=True, text=True, timeout=TIMEOUT, check=False)

    def worker(self, command: str, spec: dict | None = None, **extra_env: str):
        done = subprocess.run([sys.executable, str(WORKER), command, json.dumps(spec or {})],
                              env=self.env(**extra_env), capture_output=True, text=True, timeout=TIMEOUT,
                              check=False)
        assert done.returncode == 0, done.stderr[-3000:]
        return json.loads(done.stdout)

    def start_worker(self, command: str, spec: dict | None = None, **extra_env: str) -> subprocess.Popen:
        return subprocess.Popen([sys.executable, str(WORKER), command, json.dumps(spec or {})],
                                env=self.env(**extra_env), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)


class Instances:
    def __init__(self, root: Path):
        self.root = root
        self.pg_databases: list[str] = []
        self.postgres = connection.vendor == "postgresql"

    def _server(self) -> dict:
        db = settings.DATABASES["default"]
        return {"host": db["HOST"], "port": db["PORT"], "user": db["USER"], "password": db["PASSWORD"],
                "dbname": "postgres", "autocommit": True}

    def _admin(self, statement: str) -> None:
        import psycopg

        with psycopg.connect(**self._server()) as admin:
            admin.execute(statement)

    def new(self, label: str, *, template: Instance | None = None, create_database: bool = True) -> Instance:
        """A new, empty instance (no tables), or a copy of ``template``'s database (its documents are not copied)."""
        name = f"h8_{label}_{uuid.uuid4().hex[:8]}"
        var_dir = self.root / name
        var_dir.mkdir()
        if not self.postgres:
            instance = Instance(name, f"sqlite:///{var_dir / 'hocba.sqlite3'}", var_dir)
            if template is not None:
                source = sqlite3.connect(template.url.removeprefix("sqlite:///"))
                copy = sqlite3.connect(instance.url.removeprefix("sqlite:///"))
                source.backup(copy)  # WAL-safe, unlike copying the file
                source.close()
                copy.close()
            return instance
        db = settings.DATABASES["default"]
        if create_database:
            self._admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template.name}"' if template else ""))
            self.pg_databases.append(name)
        password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
        return Instance(name, f"postgres://{db['USER']}{password}@{db['HOST']}:{db['PORT']}/{name}", var_dir)

    def drop_all(self) -> None:
        for name in self.pg_databases:
            self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def instances(tmp_path_factory):
    made = Instances(tmp_path_factory.mktemp("ops"))
    yield made
    if made.postgres:
        made.drop_all()
