"""Camera credentials kept apart from the RTSP URL.

The registry stores a URL without ``user:password@`` plus separate username/password columns, so the URL
can be shown, logged and exported without leaking a secret; the video worker joins them again only at the
moment it opens the stream.
"""

from __future__ import annotations

from urllib.parse import quote, unquote, urlsplit, urlunsplit


def split_credentials(url: str) -> tuple[str, str | None, str | None]:
    """``rtsp://u:p@h/x`` → (``rtsp://h/x``, ``u``, ``p``); percent-escapes in user/password are decoded."""
    parts = urlsplit(url)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url, None, None
    user, colon, password = userinfo.partition(":")
    clean = urlunsplit((parts.scheme, hostport, parts.path, parts.query, parts.fragment))
    return clean, (unquote(user) or None), (unquote(password) if colon else None)


def join_credentials(url: str, username: str | None, password: str | None) -> str:
    """The URL to open: credentials percent-encoded back into the netloc (never log the result)."""
    if not username and not password:
        return url
    parts = urlsplit(url)
    userinfo = quote(username or "", safe="")
    if password is not None:
        userinfo += ":" + quote(password, safe="")
    netloc = f"{userinfo}@{parts.netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
