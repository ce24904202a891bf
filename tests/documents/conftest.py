"""Shared fixtures of the document tests: one renderer for the session (as a batch would use it), the sample
grade-9 record, and its PDF rendered once."""

from __future__ import annotations

import pytest

BASE_URL = "https://hocba.example.edu.vn"
CODE = "HB7K-Q2MX-9TZA"
SECRET = "s3cr3tK3y"


@pytest.fixture(scope="session")
def renderer():
    from hocba.documents.render import Renderer

    return Renderer()


@pytest.fixture(scope="session")
def record():
    from hocba.documents.sample import sample_record

    return sample_record()


@pytest.fixture(scope="session")
def url():
    from hocba.documents.render import verification_url

    return verification_url(BASE_URL, CODE, SECRET)


@pytest.fixture(scope="session")
def pdf(renderer, record, url):
    return renderer.render(record, verification_url=url)


@pytest.fixture(scope="session")
def pdf_path(pdf, tmp_path_factory):
    path = tmp_path_factory.mktemp("hocba") / "hocba.pdf"
    path.write_bytes(pdf)
    return path
