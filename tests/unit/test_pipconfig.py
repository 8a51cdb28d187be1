"""pip's configuration read without pip agrees with pip's own reading (`pip config list`),
and reaches uv as uv's variables; a setting uv cannot honour is named."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pyve import ui
from pyve.errors import PyveError
from pyve.installers import pipconfig, uv


@pytest.fixture(autouse=True)
def fresh_console() -> Iterator[None]:
    """uv_env's note goes through ui's console: never keep one bound to a closed capture."""
    ui.reset()
    yield
    ui.reset()


def pip_effective(environ: dict[str, str]) -> dict[str, str]:
    """What `pip install` would use, from `pip config list` (pip's public command): the
    merged files' [global], then [install], then the PIP_* variables."""
    out = subprocess.run([sys.executable, "-m", "pip", "config", "list"], env=environ,
                         capture_output=True, text=True, check=True).stdout
    sections: dict[str, dict[str, str]] = {"global": {}, "install": {}, ":env:": {}}
    for line in out.splitlines():
        key, _, value = line.partition("=")
        section, _, name = key.rpartition(".")
        if section in sections:
            sections[section][name] = ast.literal_eval(value)
    return {**sections["global"], **sections["install"], **sections[":env:"]}


def ours(environ: dict[str, str]) -> dict[str, str]:
    found = pipconfig.settings(environ, Path(sys.prefix))  # the site file: pip's sys.prefix
    return {key: setting.value for key, setting in found.items()}


@pytest.fixture
def base(tmp_path: Path) -> dict[str, str]:
    """A sandboxed HOME and XDG dirs; no PIP_* from the machine (its /etc/pip.conf stays:
    both readers see it)."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env.update({"HOME": str(home), "XDG_CONFIG_HOME": str(tmp_path / "xdg"),
                "XDG_CONFIG_DIRS": str(tmp_path / "etc-xdg")})
    return env


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_user_files_sections_and_variables_as_pip_reads_them(base: dict[str, str],
                                                             tmp_path: Path) -> None:
    home = Path(base["HOME"])
    write(home / ".pip" / "pip.conf", "[global]\nindex-url = http://legacy/simple\n"
          "timeout = 5\n")
    write(tmp_path / "xdg" / "pip" / "pip.conf",
          "[global]\nindex_url = http://user/simple\nfind-links =\n  /a\n  /b\n"
          "[install]\ntrusted-host = user-host\n[freeze]\nexclude = x\n")
    write(tmp_path / "etc-xdg" / "pip" / "pip.conf",
          "[install]\nextra-index-url = http://global/simple\n[global]\ntrusted-host = g\n")
    environ = {**base, "PIP_NO_INDEX": "yes", "PIP_CERT": "/certs.pem"}
    found = ours(environ)
    assert found == pip_effective(environ)
    assert found["index-url"] == "http://user/simple"  # the XDG file overrides ~/.pip
    assert found["trusted-host"] == "user-host"  # [install] beats [global] across files
    assert found["find-links"].split() == ["/a", "/b"]


def test_pip_config_file_hides_the_user_files(base: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / "xdg" / "pip" / "pip.conf", "[global]\nindex-url = http://user/simple\n"
          "proxy = http://user-proxy:3128\n")
    named = write(tmp_path / "named.conf", "[global]\nfind-links = /wheels\n")
    environ = {**base, "PIP_CONFIG_FILE": str(named)}
    found = ours(environ)
    assert found == pip_effective(environ)
    assert "index-url" not in found and found["find-links"] == "/wheels"


def test_devnull_reads_no_file(base: dict[str, str], tmp_path: Path) -> None:
    write(tmp_path / "xdg" / "pip" / "pip.conf", "[global]\nindex-url = http://user/simple\n")
    environ = {**base, "PIP_CONFIG_FILE": os.devnull, "PIP_FIND_LINKS": "/x /y"}
    assert ours(environ) == pip_effective(environ)
    assert all(s.origin.startswith("PIP_") for s in pipconfig.settings(environ).values())


def test_a_broken_file_is_one_error_naming_it(base: dict[str, str], tmp_path: Path) -> None:
    broken = write(tmp_path / "broken.conf", "index-url = no section\n")
    with pytest.raises(PyveError) as caught:
        pipconfig.settings({**base, "PIP_CONFIG_FILE": str(broken)})
    assert str(broken) in caught.value.message
    assert "PIP_CONFIG_FILE=/dev/null" in (caught.value.hint or "")


def test_settings_reach_uv_as_its_variables(base: dict[str, str], tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    conf = write(tmp_path / "pip.conf", "[global]\nindex-url = https://private/simple\n"
                 "extra-index-url = https://one/simple\n  https://two/simple\n"
                 "find-links = /w1 file:///w2\ntrusted-host = private one\n"
                 "cert = /ca.pem\nclient-cert = /me.pem\nproxy = http://proxy:3128\n"
                 "no-index = true\npre = true\nno-cache-dir = true\n")
    for key in [k for k in os.environ if k.startswith(("PIP_", "UV_", "SSL_"))]:
        monkeypatch.delenv(key)
    for key, value in {**base, "PIP_CONFIG_FILE": str(conf)}.items():
        monkeypatch.setenv(key, value)
    uv._warned.clear()
    env = uv.uv_env(warn=True)
    assert env["UV_INDEX_URL"] == "https://private/simple"
    assert env["UV_EXTRA_INDEX_URL"] == "https://one/simple https://two/simple"
    assert env["UV_FIND_LINKS"] == "/w1,file:///w2"
    assert env["UV_INSECURE_HOST"] == "private one"
    assert (env["SSL_CERT_FILE"], env["SSL_CLIENT_CERT"]) == ("/ca.pem", "/me.pem")
    assert env["HTTPS_PROXY"] == env["HTTP_PROXY"] == "http://proxy:3128"
    assert env["UV_INDEX_STRATEGY"] == "unsafe-best-match"  # pip's rule for several indexes
    assert uv.uv_index_flags() == ["--no-index"]
    said = capsys.readouterr().out
    # `pre` changes what uv would pick: named once, with the way back to pip;
    # no-cache-dir changes nothing installed: not named
    assert said.count("note:") == 1 and "`pre`" in said and 'installer = "pip"' in said
    assert str(conf) in said
    uv.uv_env(warn=True)
    assert "note:" not in capsys.readouterr().out  # once per build


def test_uv_variables_set_by_the_user_win(base: dict[str, str], tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    for key in [k for k in os.environ if k.startswith(("PIP_", "UV_"))]:
        monkeypatch.delenv(key)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_FIND_LINKS", "/pip-wheels")
    monkeypatch.setenv("UV_FIND_LINKS", "/uv-wheels")
    assert uv.uv_env()["UV_FIND_LINKS"] == "/uv-wheels"
