"""Trust anchors are configuration: a ``TrustConfig`` lists the root certificates (and optional extra
intermediates) that signing prechecks and validation accept. The web settings, the CLI and the tests build
one; nothing here has a built-in default root."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from asn1crypto import pem, x509


def load_certificates(data: bytes) -> list[x509.Certificate]:
    """All certificates of a PEM bundle or a single DER certificate."""
    if pem.detect(data):
        return [x509.Certificate.load(der) for kind, _, der in pem.unarmor(data, multiple=True)
                if kind == "CERTIFICATE"]
    return [x509.Certificate.load(data)]


@dataclass(frozen=True)
class TrustConfig:
    anchors: tuple[x509.Certificate, ...]
    intermediates: tuple[x509.Certificate, ...] = ()
    #: Fetch OCSP/CRL/AIA online when embedded data is missing (validation) and for prechecks.
    allow_fetching: bool = True
    sources: tuple[str, ...] = field(default=(), compare=False)

    @classmethod
    def from_files(cls, anchors: list[Path | str], intermediates: list[Path | str] = (), *,
                   allow_fetching: bool = True) -> TrustConfig:
        roots = [c for p in anchors for c in load_certificates(Path(p).read_bytes())]
        inter = [c for p in intermediates for c in load_certificates(Path(p).read_bytes())]
        if not roots:
            raise ValueError("cấu hình không có chứng thư số gốc tin cậy nào")
        return cls(tuple(roots), tuple(inter), allow_fetching, tuple(str(p) for p in anchors))

    @classmethod
    def from_env(cls, default: list[Path | str] = ()) -> TrustConfig:
        """``HOCBA_TRUST_ANCHORS`` (paths separated by ``os.pathsep``), else ``default``."""
        raw = os.environ.get("HOCBA_TRUST_ANCHORS", "")
        paths = [p for p in raw.split(os.pathsep) if p] or list(default)
        return cls.from_files(paths)

    def validation_context(self, **kwargs):
        from pyhanko_certvalidator import ValidationContext

        kwargs.setdefault("allow_fetching", self.allow_fetching)
        other = list(self.intermediates) + list(kwargs.pop("other_certs", ()))
        return ValidationContext(trust_roots=list(self.anchors), other_certs=other, **kwargs)

    def anchor_names(self) -> list[str]:
        return [a.subject.human_friendly for a in self.anchors]


def run_released(coro, *contexts):
    """``asyncio.run`` that closes the HTTP sessions the validation contexts opened for fetching."""
    import asyncio

    async def wrapped():
        try:
            return await coro
        finally:
            for vc in contexts:
                if vc is not None:
                    await vc.aclose()

    return asyncio.run(wrapped())
