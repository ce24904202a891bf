"""Whole instances for the backup, restore and crash tests: a database and a var directory each, driven by
real subprocesses (``hocba …`` and ``ops_worker.py``).

The database is a file for SQLite (WAL, as in production) and, when the suite runs on PostgreSQL, a new
database in the suite's own cluster (CREATE DATABASE through psycopg), dropped at the end of the session.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
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


# --- instances with học bạ (the session's demo PKI signs: tests/pki_support.py) --------------------------

SEAL_STUDENTS = 2  # records in the seal batch of the crash test and the restore test
SEAL_ENV = {"HOCBA_SIGNING_CHUNK": "1", "HOCBA_RECORDS_VALIDATION": "none"}  # one commit per record


def with_pki(instance: Instance, pki) -> Instance:
    """The instance signs and validates with the session's demo PKI (served by this test process)."""
    (instance.var_dir / "pki").symlink_to(pki.root, target_is_directory=True)
    return instance


def copy_instance(instances: Instances, template: Instance, label: str, pki) -> Instance:
    """A copy of ``template``: its database, its documents, the same PKI."""
    instance = instances.new(label, template=template)
    if template.documents.exists():
        shutil.copytree(template.documents, instance.documents)
    return with_pki(instance, pki)


@pytest.fixture(scope="session")
def records_template(instances, session_pki) -> Instance:
    """A class of ``SEAL_STUDENTS`` whose học bạ every teacher, the GVCN and the principal have signed: the
    seal (which issues) is next."""
    template = with_pki(instances.new("records"), session_pki)
    template.worker("records-setup", {"students": SEAL_STUDENTS})
    return template


@pytest.fixture(scope="session")
def records_copy(instances, records_template, session_pki):
    """``records_copy(label)``: a fresh copy of ``records_template`` (database, documents, PKI)."""
    return lambda label: copy_instance(instances, records_template, label, session_pki)


@pytest.fixture(scope="session")
def sealed_records(records_copy, tmp_path_factory):
    """A copy of ``records_template`` whose seal batch ran to the end (every record issued, the audit chain
    checkpointed), and the seconds from the batch's start to its end. Read-only for its users."""

    instance = records_copy("sealed")
    markers = tmp_path_factory.mktemp("sealed-markers")
    process = instance.start_worker("records-seal", {}, HOCBA_TEST_MARKERS=str(markers), **SEAL_ENV)
    _out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 0, err[-3000:]
    return instance, (markers / "done").stat().st_mtime - (markers / "tx-start").stat().st_mtime


@pytest.fixture(scope="session")
def pki_instance(instances, session_pki):
    """``pki_instance(label)``: a new, empty instance that trusts the session's demo PKI; ``pki_instance(label,
    template)``: a copy of ``template`` (database and documents) with it."""

    def make(label: str, template: Instance | None = None) -> Instance:
        if template is not None:
            return copy_instance(instances, template, label, session_pki)
        return with_pki(instances.new(label), session_pki)

    return make
