"""``hocba pki serve``: certomancer's Animator (OCSP, CRLs, TSA, certificate repositories) on loopback."""

from __future__ import annotations

import os
import threading
from pathlib import Path

from .build import DemoPki

_KEY_CACHING_BACKEND = None


def _install_key_cache() -> None:
    """certomancer re-parses the signing key (with cryptography's full RSA key check, ~35 ms) for every OCSP
    response, CRL and timestamp. Its crypto backend is a module-level hook; this one keeps parsed keys."""
    global _KEY_CACHING_BACKEND
    from certomancer import crypto_utils

    if _KEY_CACHING_BACKEND is None:
        class CachingBackend(crypto_utils.PycaCryptographyBackend):
            def __init__(self):
                super().__init__()
                self._keys: dict[bytes, object] = {}
                self._lock = threading.Lock()

            def generic_sign(self, private_key, tbs_bytes, sd_algo):
                if sd_algo.signature_algo != "rsassa_pkcs1v15":
                    return super().generic_sign(private_key, tbs_bytes, sd_algo)
                from cryptography.hazmat.primitives import hashes, serialization
                from cryptography.hazmat.primitives.asymmetric import padding

                der = private_key.dump()
                with self._lock:
                    key = self._keys.get(der)
                    if key is None:
                        key = self._keys[der] = serialization.load_der_private_key(der, password=None)
                return key.sign(tbs_bytes, padding.PKCS1v15(), getattr(hashes, sd_algo.hash_algo.upper())())

        _KEY_CACHING_BACKEND = CachingBackend()
        _install_der_certificates()
    crypto_utils.CRYPTO_BACKEND = _KEY_CACHING_BACKEND


def _install_der_certificates() -> None:
    """certomancer's TSA embeds its certificates as objects it built field by field, which asn1crypto
    re-serialises on every response (~30 ms a timestamp, the bulk of its cost). The timestamper here gets
    the same certificates loaded from their DER, whose encoding asn1crypto keeps and reuses."""
    from asn1crypto import x509
    from certomancer.registry.pki_arch import ServiceRegistry

    original = ServiceRegistry.summon_timestamper
    if getattr(original, "hocba_der", False):
        return
    lock = threading.Lock()

    def summon_timestamper(self, label, at_time=None):
        stamper = original(self, label, at_time)
        with lock:
            cache = self.__dict__.setdefault("_hocba_der_certs", {})
            if label not in cache:  # the certificates of a label are fixed for this registry's lifetime
                cache[label] = (x509.Certificate.load(stamper.tsa_cert.dump()),
                                [x509.Certificate.load(c.dump()) for c in stamper.certs_to_embed])
            stamper.tsa_cert, stamper.certs_to_embed = cache[label][0], list(cache[label][1])
        return stamper

    summon_timestamper.hocba_der = True
    ServiceRegistry.summon_timestamper = summon_timestamper


class ReloadingAnimator:
    """A WSGI app that rebuilds the Animator when the certomancer configuration changes (``pki revoke``)."""

    def __init__(self, pki: DemoPki):
        self.pki = pki
        self._lock = threading.Lock()
        self._mtime: int | None = None
        self._app = None

    def _current(self):
        mtime = os.stat(self.pki.config_path).st_mtime_ns
        with self._lock:
            if mtime != self._mtime:
                from certomancer.integrations.animator import Animator, AnimatorArchStore
                from certomancer.registry import CertomancerConfig

                cfg = CertomancerConfig.from_file(str(self.pki.config_path), key_search_dir=str(self.pki.root))
                self._app = Animator(AnimatorArchStore(cfg.pki_archs), with_web_ui=False)
                self._mtime = mtime
            return self._app

    def __call__(self, environ, start_response):
        return self._current()(environ, start_response)


def make_server(var_dir: Path | str | None = None, host: str = "127.0.0.1", port: int | None = None, *,
                quiet: bool = False):
    """A threaded werkzeug server for the PKI of ``var_dir`` (not started); ``.serve_forever()`` runs it.
    ``quiet`` silences werkzeug's per-request log (tests, benchmarks)."""
    import logging

    from werkzeug.serving import make_server as wz_make_server

    if quiet:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
    pki = DemoPki.open(var_dir)
    _install_key_cache()
    app = ReloadingAnimator(pki)
    app._current()  # build the certificates now rather than on the first request
    return wz_make_server(host, pki.port if port is None else port, app, threaded=True)


def serve(var_dir: Path | str | None = None, host: str = "127.0.0.1", port: int | None = None) -> None:
    """Runs the Animator until interrupted. The port defaults to the one baked into the certificates."""
    server = make_server(var_dir, host, port)
    print(f"PKI minh hoạ đang chạy tại http://{host}:{server.server_port}/ (Ctrl+C để dừng)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
