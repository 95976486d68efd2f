"""Why a stream does not open: OpenCV only says "not opened", an operator needs to know what to fix.

After a failed open the capture asks the camera directly: a TCP connect tells a dead host or port from a
live one, and a bare RTSP DESCRIBE (no credentials sent, nothing logged) tells a wrong path (404) or a
credential problem (401/403) from a codec or transport problem. The answer is a short reason string that
goes into the health record; it never contains the URL, so no credential can leak through it.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

RTSP_STATUS = {
    401: "unauthorized (RTSP 401): check the camera's credentials",
    403: "forbidden (RTSP 403): check the camera's credentials",
    404: "stream not found (RTSP 404): check the path",
    454: "session not found (RTSP 454)",
    503: "camera busy (RTSP 503)",
}


def open_failure_reason(url: str, timeout: float = 3.0) -> str:
    """A one-line, credential-free explanation of why ``url`` could not be opened."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname, parts.port
    except ValueError:
        return "malformed URL"
    if parts.scheme not in ("rtsp", "rtsps"):
        return "open failed"
    if not host:
        return "malformed URL: no host"
    port = port or (322 if parts.scheme == "rtsps" else 554)
    try:
        sock = socket.create_connection((host, port), timeout=timeout)
    except socket.gaierror:
        return "host name not resolved"
    except ConnectionRefusedError:
        return "connection refused (camera or server down?)"
    except TimeoutError:
        return "connect timed out (host unreachable?)"
    except OSError as exc:
        return f"cannot connect ({exc.strerror or type(exc).__name__})"
    if parts.scheme == "rtsps":
        sock.close()
        return "TLS stream could not be opened"
    with sock:
        clean = f"rtsp://{parts.hostname}:{port}{parts.path or '/'}"
        try:
            sock.settimeout(timeout)
            sock.sendall(f"DESCRIBE {clean} RTSP/1.0\r\nCSeq: 1\r\nAccept: application/sdp\r\n\r\n".encode())
            head = sock.recv(256).split(b"\r\n", 1)[0].split(b" ", 2)
            code = int(head[1])
        except (OSError, ValueError, IndexError):
            return "port open but no RTSP answer"
    if code in RTSP_STATUS:
        return RTSP_STATUS[code]
    if code == 200:
        return "stream answers but could not be decoded (codec or transport?)"
    return f"camera answered RTSP {code}"
