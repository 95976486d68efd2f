"""Credentials never reach a log line: redact_url over the URL shapes cameras come with."""

import pytest

from onescreen.log import redact_url


@pytest.mark.parametrize("url, expected", [
    ("rtsp://admin:p%40ss@10.0.0.1:554/ch1", "rtsp://***@10.0.0.1:554/ch1"),
    ("rtsp://admin@10.0.0.1/ch1", "rtsp://***@10.0.0.1/ch1"),
    ("//admin:pw@10.0.0.1:554/ch1", "//***@10.0.0.1:554/ch1"),
    ("postgresql+psycopg://onescreen:s3cret@db:5432/x", "postgresql+psycopg://***@db:5432/x"),
    ("rtsp://10.0.0.1/ch1", "rtsp://10.0.0.1/ch1"),
    ("http://host/path@not-creds", "http://host/path@not-creds"),
    ("", ""),
    (None, ""),
])
def test_redact_url(url, expected):
    assert redact_url(url) == expected
