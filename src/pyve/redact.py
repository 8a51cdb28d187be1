"""Secrets never printed or stored: credentials in URLs and secret-looking `NAME=value`
pairs are masked in every line pyve prints, and replaced by a digest in its state files.
Error lines are one line, of bounded length, quoting at most a short excerpt of a file."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from typing import Any

MAX_LINE = 400  # characters in one error or hint line
MAX_EXCERPT = 40  # characters of a file's content quoted in an error line
MASK = "****"

# scheme://user:password@host or scheme://token@host (pip masks both forms the same way)
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<user>[^/@\s'\"]+?)"
                       r"(?::(?P<password>[^/@\s'\"]*))?@")
_URL_WITH_USERINFO = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^/@\s'\"]+@[^\s'\"]*")
# MY_TOKEN=..., PASSWORD=..., api_key: ... as in an environment dump or a netrc-like file
_SECRET_PAIR = re.compile(
    r"(?i)(?P<key>\b[A-Za-z0-9_.\-]*(?:token|secret|passw(?:or)?d|pwd|api[_\-]?key|auth)"
    r"[A-Za-z0-9_.\-]*)(?P<sep>\s*=\s*|:\s+)(?P<value>[^\s'\"\\,;]+)")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# a control character, or the escape pip prints for one ('\x00' in a repr)
_CONTROL_OR_ESCAPE = re.compile(r"[\x00-\x1f\x7f]|\\x[0-9a-fA-F]{2}|\\[nrt0]")


def _mask_userinfo(match: re.Match[str]) -> str:
    if match.group("password") is None:  # a lone token in the user part, as pip reads it
        return f"{match.group('scheme')}{MASK}@"
    return f"{match.group('scheme')}{match.group('user')}:{MASK}@"


def redact(text: str) -> str:
    """`text` with URL credentials and secret-looking values masked (for printing)."""
    text = _USERINFO.sub(_mask_userinfo, text)
    return _SECRET_PAIR.sub(lambda m: f"{m.group('key')}{m.group('sep')}{MASK}"
                            if m.group("value") != MASK else m.group(0), text)


def redact_args(args: list[str]) -> str:
    """A command line to print: its arguments joined, credentials masked."""
    return redact(" ".join(args))


def digest_urls(text: str) -> str:
    """For state files: each URL carrying credentials becomes the URL without them plus a
    digest of the whole URL, so a changed password still changes what is stored."""

    def replace(match: re.Match[str]) -> str:
        url = match.group(0)
        digest = hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]
        return f"{_USERINFO.sub(lambda m: m.group('scheme') + MASK + '@', url)}" \
               f"#pyve-sha256={digest}"

    return _URL_WITH_USERINFO.sub(replace, text)


# the authority's `user:password@` (or `token@`), and anaconda.org's `/t/<token>` path part
_URL_CREDENTIALS = re.compile(r"^(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?:[^/?#]*@)?"
                              r"(?P<host>[^/?#@]*)(?:/t/[^/]+(?=/))?")


def without_credentials(url: str) -> str:
    """`url` without its credentials: what pyve writes as a channel or package URL into a
    lock, a solution file or an env's records (conda-lock masks the password in its package
    URLs, `carol:*****@`, but keeps it in the lock's channel list)."""
    return _URL_CREDENTIALS.sub(lambda m: m.group("scheme") + m.group("host"), url, count=1)


def with_credentials(url: str, channels: Iterable[str]) -> str:
    """`url`, written without credentials, with those of the channel in `channels` it is
    under: a fetch needs them; nothing written keeps them."""
    for channel in channels:
        bare = without_credentials(channel).rstrip("/")
        if bare != channel.rstrip("/") and (url == bare or url.startswith(bare + "/")):
            return channel.rstrip("/") + url[len(bare):]
    return url


def for_state(data: Any) -> Any:
    """JSON-able data with every credential-bearing URL in its strings digested."""
    if isinstance(data, str):
        return digest_urls(data) if "@" in data else data
    if isinstance(data, dict):
        return {key: for_state(value) for key, value in data.items()}
    if isinstance(data, list | tuple):
        return [for_state(item) for item in data]
    return data


def excerpt(text: str, limit: int = MAX_EXCERPT) -> str:
    """A short, redacted excerpt of a file's content: up to the first control character
    (a NUL says it is not a text file at all), at most `limit` characters."""
    text = _CONTROL_OR_ESCAPE.split(str(text), maxsplit=1)[0]
    text = redact(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def one_line(text: str, limit: int = MAX_LINE) -> str:
    """An error line: control characters and line breaks become spaces, secrets masked,
    at most `limit` characters."""
    text = redact(" ".join(_CONTROL.sub(" ", str(text)).split()))
    return text if len(text) <= limit else text[: limit - 1] + "…"
