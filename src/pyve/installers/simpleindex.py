"""The files a package index lists for one project (PEP 503 HTML or PEP 691 JSON), with their
sha256: what the venv lock needs when an extra index mirrors only some files of a version.

uv takes the files of a version from the first index that has it (whatever the index
strategy), so a partial mirror gives the lock one hash where the primary index has one per
platform. Reading each index's page for the locked names puts every file's hash back. The
settings are uv's (pyve hands pip's to it): credentials in the URL, SSL_CERT_FILE, proxies.
"""

from __future__ import annotations

import base64
import json
import re
import ssl
import urllib.parse
import urllib.request
from collections.abc import Mapping
from pathlib import Path

_ANCHOR = re.compile(r"""<a\s[^>]*href\s*=\s*["']([^"']+)["'][^>]*>([^<]*)</a>""", re.I)
_JSON = "application/vnd.pypi.simple.v1+json"


def project_files(index: str, name: str, env: Mapping[str, str],
                  timeout: float = 30.0) -> list[tuple[str, str, str]]:
    """(file name, sha256, URL) of every file the index lists for `name` (canonical); []
    when the index does not have it or cannot be read (the lock then keeps uv's hashes)."""
    base = index.rstrip("/") + "/" + name + "/"
    try:
        text, kind = _read(base, env, timeout)
    except (OSError, ValueError):
        return []
    if kind.startswith(_JSON) or text.lstrip().startswith("{"):
        try:
            files = json.loads(text).get("files", [])
        except ValueError:
            return []
        return [(f["filename"], f["hashes"]["sha256"],
                 urllib.parse.urljoin(base, str(f.get("url", "")))) for f in files
                if isinstance(f, dict) and isinstance(f.get("hashes"), dict)
                and isinstance(f["hashes"].get("sha256"), str) and f.get("filename")]
    found = []
    for href, label in _ANCHOR.findall(text):
        _path, _, fragment = href.partition("#")
        algo, _, digest = fragment.partition("=")
        filename = urllib.parse.unquote(_path.rsplit("/", 1)[-1]) or label.strip()
        if algo == "sha256" and digest:
            found.append((filename, digest, urllib.parse.urljoin(base, _path)))
    return found


def _read(url: str, env: Mapping[str, str], timeout: float) -> tuple[str, str]:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "file":
        folder = Path(urllib.parse.unquote(parts.path))
        page = folder / "index.html"
        return page.read_text(encoding="utf-8", errors="replace"), "text/html"
    if parts.scheme not in ("http", "https"):
        raise ValueError(f"not an index URL: {url}")
    headers = {"Accept": f"{_JSON}, text/html;q=0.1"}
    if parts.username:  # credentials in the URL, as pip and uv take them
        user = urllib.parse.unquote(parts.username)
        secret = urllib.parse.unquote(parts.password or "")
        token = base64.b64encode(f"{user}:{secret}".encode()).decode()
        headers["Authorization"] = f"Basic {token}"
        netloc = parts.hostname or ""
        if parts.port:
            netloc += f":{parts.port}"
        url = urllib.parse.urlunsplit(parts._replace(netloc=netloc))
    cafile = env.get("SSL_CERT_FILE")
    context = ssl.create_default_context(cafile=cafile if cafile else None)
    proxies = {}
    for scheme in ("http", "https"):
        proxy = env.get(f"{scheme.upper()}_PROXY") or env.get(f"{scheme}_proxy")
        if proxy:
            proxies[scheme] = proxy
    opener = urllib.request.build_opener(urllib.request.ProxyHandler(proxies),
                                         urllib.request.HTTPSHandler(context=context))
    with opener.open(urllib.request.Request(url, headers=headers), timeout=timeout) as answer:
        charset = answer.headers.get_content_charset() or "utf-8"
        return answer.read().decode(charset, errors="replace"), answer.headers.get(
            "Content-Type", "")
