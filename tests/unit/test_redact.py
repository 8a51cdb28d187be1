"""pyve.redact: what a printed line and a state file may say of a secret."""

from __future__ import annotations

import pytest

from pyve import redact
from pyve.errors import PyveError
from pyve.proc import last_error_line


@pytest.mark.parametrize(("text", "shown"), [
    ("--index-url http://bob:hunter2pw@host/simple", "--index-url http://bob:****@host/simple"),
    ("--extra-index-url=https://tok3n@host/simple", "--extra-index-url=https://****@host/simple"),
    ("channel https://u:p@conda.example/chan/", "channel https://u:****@conda.example/chan/"),
    ("MY_TOKEN=ghp_abc PATH=/bin", "MY_TOKEN=**** PATH=/bin"),
    ("password: hunter2", "password: ****"),
    ("no secret here: numpy>=1.24", "no secret here: numpy>=1.24"),
    ("authentication failed", "authentication failed"),
])
def test_redact(text: str, shown: str) -> None:
    assert redact.redact(text) == shown


def test_state_keeps_a_digest_not_the_password() -> None:
    config = {"pip": ["--extra-index-url http://bob:hunter2pw@host/simple", "beta"]}
    stored = redact.for_state(config)
    assert "hunter2pw" not in str(stored) and "bob" not in str(stored)
    assert stored["pip"][1] == "beta"
    other = redact.for_state({"pip": ["--extra-index-url http://bob:other@host/simple", "beta"]})
    assert other != stored  # a changed password is still a change
    assert redact.for_state(config) == stored  # and the same one is not


def test_error_lines_are_one_bounded_line() -> None:
    error = PyveError("first\nsecond\x00" + "x" * 10_000, hint="a\nb")
    assert "\n" not in error.message and "\x00" not in error.message
    assert len(error.message) <= redact.MAX_LINE and error.hint == "a b"
    assert "hunter2" not in PyveError("cannot reach https://bob:hunter2@host/x").message


def test_pip_invalid_requirement_quotes_an_excerpt() -> None:
    """`-r /proc/self/environ`: pip quotes the whole environment as one requirement line."""
    environ = "MY_TOKEN=ghp_secret123\\x00SHELL=/bin/bash\\x00HOME=/root\\x00" * 50
    line = last_error_line(f"ERROR: Invalid requirement: '{environ}' "
                           "(from line 1 of /proc/self/environ)\n")
    assert "ghp_secret123" not in line and "SHELL" not in line, line
    assert line.endswith("(from line 1 of /proc/self/environ)"), line
    assert len(line) < 120, line
    plain = last_error_line("ERROR: Invalid requirement: 'this is not valid!!' "
                            "(from line 2 of requirements.txt)")
    assert plain == ("ERROR: Invalid requirement: 'this is not valid!!' "
                     "(from line 2 of requirements.txt)")


@pytest.mark.parametrize(("url", "written"), [
    ("http://carol:PW@host:8080/channel", "http://host:8080/channel"),
    ("https://tok3n@host/c/noarch/x-1-0.conda", "https://host/c/noarch/x-1-0.conda"),
    ("https://u:p@ss@host/c", "https://host/c"),  # an unescaped @ in the password
    ("https://conda.anaconda.org/t/abc-123/mychan/noarch/x.conda",
     "https://conda.anaconda.org/mychan/noarch/x.conda"),
    ("https://host/channel/noarch/a@1.conda", "https://host/channel/noarch/a@1.conda"),
    ("file:///srv/chan", "file:///srv/chan"),
    ("conda-forge", "conda-forge"),
])
def test_urls_are_written_without_credentials(url: str, written: str) -> None:
    assert redact.without_credentials(url) == written


def test_a_fetch_gets_the_credentials_of_its_channel_back() -> None:
    channels = ["https://conda.anaconda.org/conda-forge", "http://carol:PW@host/chan/",
                "https://conda.anaconda.org/t/abc/private"]
    assert redact.with_credentials("http://host/chan/noarch/x.conda", channels) == \
        "http://carol:PW@host/chan/noarch/x.conda"
    assert redact.with_credentials("https://conda.anaconda.org/private/linux-64", channels) == \
        "https://conda.anaconda.org/t/abc/private/linux-64"
    assert redact.with_credentials("http://host/chanother/x", channels) == "http://host/chanother/x"
    assert redact.with_credentials("https://conda.anaconda.org/conda-forge/x", channels) == \
        "https://conda.anaconda.org/conda-forge/x"
