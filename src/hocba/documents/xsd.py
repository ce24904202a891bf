"""The XSD of the học bạ số XML: its namespace, where it lives, and validation against it."""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

NAMESPACE = "urn:hocba:hocbaso:thcs:1.0"
SCHEMA_VERSION = "1.0"
SCHEMA_PATH = Path(__file__).resolve().parent / "schema" / "hocba-thcs-1.0.xsd"
NS = {"hb": NAMESPACE}


class HocBaXmlError(ValueError):
    """The XML is not an acceptable học bạ document. ``str(e)`` is a Vietnamese message; ``details`` lists
    the validator's findings (line: message)."""

    def __init__(self, message: str, details: list[str] | None = None):
        super().__init__(message)
        self.details = details or []


@functools.cache
def schema() -> etree.XMLSchema:
    """The compiled XSD (loaded once per process; the schema file imports nothing over the network)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(SCHEMA_PATH), parser))


def validate(tree) -> None:
    """Raises ``HocBaXmlError`` unless ``tree`` (element or tree) is valid against the XSD."""
    xsd = schema()
    if not xsd.validate(tree):
        details = [f"dòng {e.line}: {e.message}" for e in xsd.error_log]
        raise HocBaXmlError("XML học bạ không hợp lệ theo lược đồ hocba-thcs-1.0.xsd: "
                            + "; ".join(details[:5]), details)
