"""The OCI-registry store: one artifact per key (tag = key), one layer per file, via oras-py.

Blobs are uploaded first and the manifest (the tag) last, so a reader never sees a partial
entry. Credentials come from Docker's config.json ($DOCKER_CONFIG or ~/.docker), as docker
and oras read them. Every request has a timeout and none is retried: a dead registry fails
within the timeout with one StoreError line."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import oras.container
import oras.defaults
import oras.oci
import oras.provider
import requests

from pyve.redact import redact
from pyve.remotecache.store import StoreError

CHUNK = 16 * 1024 * 1024  # upload chunk (oras' default): memory stays at one chunk per file
TAG_PAGE = 1000  # tags asked for per page of /tags/list


class _TimeoutSession(requests.Session):
    """A session whose every request has a timeout (requests has none by default)."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self.timeout = timeout

    def request(self, method: str | bytes, url: str | bytes,  # type: ignore[override]
                *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", self.timeout)
        return super().request(method, url, *args, **kwargs)  # type: ignore[arg-type]


class _Registry(oras.provider.Registry):
    """oras' client with a bounded session and no retries: oras' own retry decorator sleeps
    3 + 5 + 11 + 29 + 83 s on a dead registry, where a cache should fail fast and build."""

    def __init__(self, hostname: str, *, insecure: bool, timeout: float) -> None:
        super().__init__(hostname=hostname, insecure=insecure)
        self.session = _TimeoutSession(timeout)
        self.session.cookies.set_policy(  # as oras' own session: registries' cookies ignored
            oras.provider.DefaultCookiePolicy(allowed_domains=[]))
        self.auth.session = self.session
        self._basic = False  # the registry asked for Basic auth: send it every time

    def do_request(self, url: str, method: str = "GET", data: Any = None,
                   headers: dict[str, str] | None = None, json: Any = None,
                   stream: bool = False) -> requests.Response:
        headers = dict(headers or {})
        basic = getattr(self.auth, "_basic_auth", None)
        if self._basic and basic:
            headers["Authorization"] = f"Basic {basic}"
        elif getattr(self.auth, "token", None):
            headers.update(self.auth.get_auth_header())
        response = self.session.request(method, url, data=data, json=json, headers=headers,
                                        stream=stream, verify=self._tls_verify)
        if response.status_code != 401 or self._basic:
            return response
        # oras' token backend cannot answer a Basic challenge (the distribution registry's
        # htpasswd auth, Artifactory, Nexus): answer it with config.json's user:password
        if response.headers.get("Www-Authenticate", "").lower().startswith("basic") and basic:
            self._basic = True
            return self.do_request(url, method, data, headers, json, stream)
        # a Bearer challenge (GHCR, Docker Hub, ...): oras gets the token, without its retries
        return oras.provider.Registry.do_request.__wrapped__(  # type: ignore[attr-defined,no-any-return]
            self, url, method, data, headers, json, stream)


def docker_config_path() -> str:
    """Docker's credentials file: $DOCKER_CONFIG/config.json, else ~/.docker/config.json."""
    folder = os.environ.get("DOCKER_CONFIG") or os.path.join(os.path.expanduser("~"), ".docker")
    return os.path.join(folder, "config.json")


class OciStore:
    """oci://host/repo/path (https) or oci+http://host:port/repo/path (plain http)."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        self.url = redact(url)
        parts = urlsplit(url)
        if parts.scheme not in ("oci", "oci+http") or not parts.hostname or \
                not parts.path.strip("/"):
            raise StoreError(f"remote_cache {self.url}: expected oci://HOST/REPOSITORY "
                             "or oci+http://HOST:PORT/REPOSITORY")
        # user:pass@ in the URL is not read: credentials belong in config.json
        self.host = parts.hostname + (f":{parts.port}" if parts.port else "")
        self.repository = parts.path.strip("/")
        self.timeout = timeout
        self._client = _Registry(self.host, insecure=parts.scheme == "oci+http", timeout=timeout)
        self._auth_loaded = False

    def _container(self, key: str) -> oras.container.Container:
        container = self._client.get_container(f"{self.host}/{self.repository}:{key}")
        if not self._auth_loaded:
            config = docker_config_path()
            self._client.auth.load_configs(container,
                                           configs=[config] if os.path.exists(config) else [])
            self._auth_loaded = True
        return container

    def _fail(self, what: str, err: BaseException | str) -> StoreError:
        reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        if isinstance(err, requests.Timeout):
            reason = f"no answer within {self.timeout:g} s"
        elif isinstance(err, requests.ConnectionError):
            reason = "cannot connect"
        elif "authentication" in reason.lower():
            reason = ("the registry refused the credentials: docker login, or a config.json "
                      "in DOCKER_CONFIG, with an entry for " + self.host)
        return StoreError(redact(f"remote_cache {self.url}: {what}: {reason}")[:400])

    def _check(self, response: requests.Response, what: str) -> None:
        if response.status_code in (401, 403):
            raise self._fail(what, "authentication failed")
        if response.status_code not in (200, 201, 202):
            raise self._fail(what, f"HTTP {response.status_code} {response.reason}")

    def get(self, key: str, dest: Path) -> dict[str, Path] | None:
        container = self._container(key)
        try:
            response = self._client.do_request(
                f"{self._client.prefix}://{container.manifest_url()}", "GET",
                headers={"Accept": ", ".join(oras.defaults.default_manifest_accepted_media_types)})
            if response.status_code == 404:
                return None
            self._check(response, f"reading entry {key}")
            manifest = response.json()
            files: dict[str, Path] = {}
            for layer in manifest.get("layers", []):
                name = (layer.get("annotations") or {}).get(oras.defaults.annotation_title, "")
                if not name or "/" in name or name in (".", ".."):
                    raise self._fail(f"reading entry {key}",
                                     f"a layer with no plain file name {name!r}")
                target = dest / name
                # streamed in 8 KiB pieces to the file (oras' download_blob)
                with self._client.get_blob(container, layer["digest"], stream=True) as blob:
                    self._check(blob, f"reading {name} of entry {key}")
                    with open(target, "wb") as out:
                        for piece in blob.iter_content(chunk_size=1024 * 1024):
                            out.write(piece)
                files[name] = target
            return files
        except StoreError:
            raise
        except (requests.RequestException, ValueError, OSError, KeyError) as err:
            raise self._fail(f"reading entry {key}", err) from None

    def put(self, key: str, files: dict[str, Path]) -> None:
        container = self._container(key)
        manifest = oras.oci.NewManifest()
        try:
            for name, path in files.items():
                layer = oras.oci.NewLayer(str(path))
                layer["annotations"] = {oras.defaults.annotation_title: name}
                # chunked (POST, PATCH per 16 MB, PUT): oras' plain upload reads the whole file
                response = self._client.upload_blob(str(path), container, layer,
                                                    do_chunked=True, chunk_size=CHUNK)
                self._check(response, f"uploading {name} of entry {key}")
                manifest["layers"].append(layer)
            config, _ = oras.oci.ManifestConfig()
            with tempfile.TemporaryDirectory(prefix="pyve-oci-") as tmp:
                empty = Path(tmp, "config.json")
                empty.write_text("{}")
                response = self._client.upload_blob(str(empty), container, config)
                self._check(response, f"uploading entry {key}")
            manifest["config"] = config
            # last: the tag appears only once every blob is in the registry
            self._check(self._client.upload_manifest(manifest, container), f"tagging entry {key}")
        except StoreError:
            raise
        except (requests.RequestException, ValueError, OSError) as err:
            raise self._fail(f"uploading entry {key}", err) from None

    def keys(self) -> list[str]:
        container = self._container("latest")
        url: str | None = (f"{self._client.prefix}://{container.registry}/v2/"
                           f"{container.api_prefix}/tags/list?n={TAG_PAGE}")
        tags: list[str] = []
        try:
            while url:
                response = self._client.do_request(url, "GET")
                if response.status_code == 404:  # no repository yet: no keys
                    return tags
                self._check(response, "listing keys")
                tags.extend(response.json().get("tags") or [])
                following = response.links.get("next", {}).get("url")
                url = (f"{self._client.prefix}://{container.registry}{following}"
                       if following and following.startswith("/") else following)
        except StoreError:
            raise
        except (requests.RequestException, ValueError) as err:
            raise self._fail("listing keys", err) from None
        return sorted(tags)
