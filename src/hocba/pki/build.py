"""Generates the demo/test PKI under ``$HOCBA_VAR_DIR/pki`` and reads it back.

The PKI is described as a certomancer configuration built here in Python, written as YAML next to freshly
generated RSA-2048 keys. certomancer derives the certificates, CRLs, OCSP responses and timestamps from that
description, so the same files serve ``hocba pki serve`` (its Animator) and the signing code (PKCS#12 files).
Nothing here is ever committed: ``var/`` is ignored by git.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from .model import DEMO_PEOPLE, DEMO_SCHOOL, Person, School, people_from_json, people_to_json

ARCH = "hocba"
DEFAULT_PORT = 9380
_TIME_FMT = "%Y-%m-%dT%H:%M:%S+0000"

#: certomancer's names for CRL reasons, accepted by ``revoke``.
REVOCATION_REASONS = ("unspecified", "key_compromise", "ca_compromise", "affiliation_changed", "superseded",
                      "cessation_of_operation", "certificate_hold", "privilege_withdrawn")


def var_dir_default() -> Path:
    return Path(os.environ.get("HOCBA_VAR_DIR", "var"))


def _label(username: str) -> str:
    return "u-" + re.sub(r"[^A-Za-z0-9-]", "-", username)


def _ts(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime(_TIME_FMT)


def _key_usage(*usages: str) -> dict:
    return {"id": "key_usage", "critical": True, "smart-value": {"schema": "key-usage", "params": list(usages)}}


def _crl_dp(repo: str) -> dict:
    return {"id": "crl_distribution_points",
            "smart-value": {"schema": "crl-dist-url", "params": {"crl-repo-names": [repo]}}}


_OCSP_AIA = {"id": "authority_information_access",
             "smart-value": {"schema": "aia-urls", "params": {"ocsp-responder-names": ["interm"]}}}


def build_config(people: list[Person] | tuple[Person, ...], school: School, *, port: int,
                 now: dt.datetime) -> dict:
    """The certomancer configuration (as a dict) for this school's demo PKI."""
    start = now - dt.timedelta(days=1)
    years = lambda n: _ts(start + dt.timedelta(days=365 * n))
    org = {"country-name": "VN", "state-or-province-name": school.province}

    def signer_exts() -> list[dict]:
        return [_key_usage("digital_signature", "non_repudiation"), _crl_dp("interm"), _OCSP_AIA]

    keys = {"root": {"path": "keys/root.key.pem"}, "interm": {"path": "keys/interm.key.pem"},
            "ocsp": {"path": "keys/ocsp.key.pem"}, "tsa": {"path": "keys/tsa.key.pem"},
            _label(school.seal_username): {"path": f"keys/{_label(school.seal_username)}.key.pem"}}
    entities = {
        "root": {**org, "organization-name": "HOCBA DEMO PKI", "common-name": "HOCBA Demo Root CA"},
        "interm": {**org, "organization-name": "HOCBA DEMO PKI", "common-name": "HOCBA Demo Issuing CA"},
        "ocsp": {**org, "organization-name": "HOCBA DEMO PKI", "common-name": "HOCBA Demo OCSP Responder"},
        "tsa": {**org, "organization-name": "HOCBA DEMO PKI", "common-name": "HOCBA Demo Time Stamping Authority"},
        _label(school.seal_username): {**org, "organization-name": school.name, "common-name": school.name,
                                       "serial-number": f"MST:{school.code}"},
    }
    certs: dict[str, dict] = {
        "root": {"subject": "root", "issuer": "root", "authority-key": "root",
                 "validity": {"valid-from": _ts(start), "valid-to": years(20)},
                 "extensions": [{"id": "basic_constraints", "critical": True, "value": {"ca": True}},
                                _key_usage("digital_signature", "key_cert_sign", "crl_sign")]},
        "interm": {"issuer": "root", "validity": {"valid-from": _ts(start), "valid-to": years(10)},
                   "extensions": [{"id": "basic_constraints", "critical": True,
                                   "value": {"ca": True, "path-len-constraint": 0}},
                                  _key_usage("digital_signature", "key_cert_sign", "crl_sign"), _crl_dp("root")]},
        "ocsp": {"issuer": "interm", "validity": {"valid-from": _ts(start), "valid-to": years(10)},
                 "extensions": [_key_usage("digital_signature"),
                                {"id": "extended_key_usage", "critical": True, "value": ["ocsp_signing"]},
                                {"id": "ocsp_no_check"}]},
        "tsa": {"issuer": "root", "validity": {"valid-from": _ts(start), "valid-to": years(10)},
                "extensions": [_key_usage("digital_signature"),
                               {"id": "extended_key_usage", "critical": True, "value": ["time_stamping"]},
                               _crl_dp("root")]},
        _label(school.seal_username): {"issuer": "interm",
                                       "validity": {"valid-from": _ts(start), "valid-to": years(3)},
                                       "extensions": signer_exts()},
    }
    for person in people:
        label = _label(person.username)
        keys[label] = {"path": f"keys/{label}.key.pem"}
        entity = {**org, "organization-name": person.organisation, "common-name": person.full_name,
                  "serial-number": f"CCCD:{person.personal_number}"}
        if person.title:
            entity["title"] = person.title
        entities[label] = entity
        certs[label] = {"issuer": "interm", "validity": {"valid-from": _ts(start), "valid-to": years(3)},
                        "extensions": signer_exts()}
    return {
        "external-url-prefix": f"http://127.0.0.1:{port}",
        "keysets": {ARCH: {"keys": keys}},
        "pki-architectures": {ARCH: {
            "keyset": ARCH,
            "entities": entities,
            "certs": certs,
            "services": {
                "ocsp": {"interm": {"for-issuer": "interm", "responder-cert": "ocsp", "signing-key": "ocsp"}},
                "crl-repo": {
                    "root": {"for-issuer": "root", "signing-key": "root", "simulated-update-schedule": "P1D"},
                    "interm": {"for-issuer": "interm", "signing-key": "interm",
                               "simulated-update-schedule": "P1D"},
                },
                "cert-repo": {"root": {"for-issuer": "root", "publish-issued-certs": True},
                              "interm": {"for-issuer": "interm", "publish-issued-certs": True}},
                "time-stamping": {"tsa": {"signing-key": "tsa", "signing-cert": "tsa"}},
            },
        }},
    }


def init(var_dir: Path | str | None = None, people: list[Person] | tuple[Person, ...] | None = None,
         school: School | None = None, *, port: int = DEFAULT_PORT, now: dt.datetime | None = None) -> DemoPki:
    """Creates (or re-creates) the demo PKI: keys, certomancer config, certificates and one PKCS#12 per
    signer (people and the school seal) under ``<var_dir>/pki``. Returns the opened PKI."""
    people = tuple(DEMO_PEOPLE if people is None else people)
    school = school or DEMO_SCHOOL
    if len({p.username for p in people} | {school.seal_username}) != len(people) + 1:
        raise ValueError("tên đăng nhập trùng nhau trong danh sách người ký")
    root = Path(var_dir or var_dir_default()) / "pki"
    (root / "keys").mkdir(parents=True, exist_ok=True)
    (root / "p12").mkdir(exist_ok=True)
    (root / "certs").mkdir(exist_ok=True)
    os.chmod(root / "keys", 0o700)
    os.chmod(root / "p12", 0o700)
    config = build_config(people, school, port=port, now=now or dt.datetime.now(dt.UTC))
    for spec in config["keysets"][ARCH]["keys"].values():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path = root / spec["path"]
        path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
        os.chmod(path, 0o600)
    (root / "certomancer.yml").write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False),
                                          encoding="utf-8")
    password = secrets.token_urlsafe(16)
    manifest = {"arch": ARCH, "port": port, "school": school.__dict__,
                "signers": {p.username: _label(p.username) for p in people}
                | {school.seal_username: _label(school.seal_username)},
                "pkcs12_password": password}
    (root / "people.json").write_text(people_to_json(people), encoding="utf-8")
    (root / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    os.chmod(root / "manifest.json", 0o600)
    pki = DemoPki(root)
    arch = pki.arch
    for label in ("root", "interm", "ocsp", "tsa", *manifest["signers"].values()):
        (root / "certs" / f"{label}.cert.pem").write_bytes(_pem(arch.get_cert(label).dump()))
    for username, label in manifest["signers"].items():
        path = root / "p12" / f"{username}.p12"
        path.write_bytes(arch.package_pkcs12(label, password=password.encode()))
        os.chmod(path, 0o600)
    return pki


def _pem(der: bytes) -> bytes:
    from asn1crypto import pem

    return pem.armor("CERTIFICATE", der)


@dataclass(frozen=True)
class DemoPki:
    """An initialised demo PKI directory (``<var_dir>/pki``)."""

    root: Path

    @classmethod
    def open(cls, var_dir: Path | str | None = None) -> DemoPki:
        root = Path(var_dir or var_dir_default()) / "pki"
        if not (root / "manifest.json").exists():
            raise FileNotFoundError(f"chưa khởi tạo PKI minh hoạ tại {root} (chạy: hocba pki init)")
        return cls(root)

    @cached_property
    def manifest(self) -> dict:
        return json.loads((self.root / "manifest.json").read_text(encoding="utf-8"))

    @property
    def config_path(self) -> Path:
        return self.root / "certomancer.yml"

    @property
    def port(self) -> int:
        return int(self.manifest["port"])

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/{ARCH}"

    @property
    def tsa_url(self) -> str:
        return f"{self.base_url}/tsa/tsa"

    @property
    def ocsp_url(self) -> str:
        return f"{self.base_url}/ocsp/interm"

    @property
    def school(self) -> School:
        return School(**self.manifest["school"])

    @property
    def people(self) -> list[Person]:
        return people_from_json((self.root / "people.json").read_text(encoding="utf-8"))

    @property
    def usernames(self) -> list[str]:
        return list(self.manifest["signers"])

    @property
    def pkcs12_password(self) -> bytes:
        return self.manifest["pkcs12_password"].encode()

    def pkcs12_path(self, username: str) -> Path:
        if username not in self.manifest["signers"]:
            raise KeyError(f"không có chứng thư số minh hoạ cho người dùng {username!r}")
        return self.root / "p12" / f"{username}.p12"

    def cert_path(self, name: str) -> Path:
        """PEM path of ``root``, ``interm``, ``ocsp``, ``tsa`` or a signer's username."""
        label = self.manifest["signers"].get(name, name)
        return self.root / "certs" / f"{label}.cert.pem"

    @property
    def root_cert_path(self) -> Path:
        return self.cert_path("root")

    def key_path(self, username: str) -> Path:
        return self.root / "keys" / f"{self.manifest['signers'][username]}.key.pem"

    @property
    def arch(self):
        """certomancer's ``PKIArchitecture`` (re-read from disk each time, so revocations show)."""
        from certomancer.registry import CertomancerConfig

        return CertomancerConfig.from_file(str(self.config_path), key_search_dir=str(self.root)).pki_archs[ARCH]


def revoke(username: str, reason: str = "key_compromise", at: dt.datetime | None = None,
           var_dir: Path | str | None = None) -> dt.datetime:
    """Marks a demo certificate revoked since ``at`` (default: now). A running ``pki serve`` picks it up on
    its next request (it reloads the configuration when the file changes)."""
    if reason not in REVOCATION_REASONS:
        raise ValueError(f"lý do thu hồi không hợp lệ: {reason}")
    pki = DemoPki.open(var_dir)
    label = pki.manifest["signers"].get(username)
    if label is None:
        raise KeyError(f"không có chứng thư số minh hoạ cho người dùng {username!r}")
    at = (at or dt.datetime.now(dt.UTC)).replace(microsecond=0)
    config = yaml.safe_load(pki.config_path.read_text(encoding="utf-8"))
    config["pki-architectures"][ARCH]["certs"][label]["revocation"] = {"revoked-since": _ts(at), "reason": reason}
    tmp = pki.config_path.with_suffix(".yml.tmp")
    tmp.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    os.replace(tmp, pki.config_path)
    return at
