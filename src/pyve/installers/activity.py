"""What pip or uv is doing, read from its own output lines, as a few words for the live line
("installing 37 packages: flask, pandas, ...").

Only what they print is said. Off a terminal pip draws no download bar while it downloads
(one summary bar line comes after: "16.3/16.3 MB 76.2 MB/s"), and uv says "Downloading
numpy (15.6MiB)" then "Downloaded numpy": so a download shows its file and size while the
live line's clock runs, and its rate only once pip has printed it. Nothing is guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

MAX_NAMES = 50  # characters of package names after "installing N packages: "

_COLLECT = re.compile(r"^(?:Collecting|Processing|Obtaining) (\S+)")
_DOWNLOAD = re.compile(r"^Downloading (\S+) \((.+)\)$")  # pip and uv
_BAR = re.compile(r"(\d[\d.]*/\d[\d.]* [kMGT]?B) (\d[\d.]* [kMGT]?B/s)")  # pip, after the fact
_BUILD = re.compile(r"^(?:Building wheel for|Building|Built) (\S+)")
_SATISFIED = re.compile(r"^Requirement already satisfied: (\S+)")
_INSTALLING = re.compile(r"^Installing collected packages: (.+)$")
_INSTALLED = re.compile(r"^Successfully installed (.+)$")
_UV_COUNT = re.compile(r"^(Resolved|Prepared|Installed|Uninstalled|Audited) (\d+) packages?")


def _dist(spec: str) -> str:
    """numpy-2.1.3-cp311-...whl -> numpy 2.1.3; ./src/pkg -> pkg; name>=1 -> name>=1."""
    base = spec.rstrip("/").rsplit("/", 1)[-1]
    if base.endswith(".whl"):
        parts = base.split("-")
        return f"{parts[0]} {parts[1]}" if len(parts) > 1 else base
    for suffix in (".tar.gz", ".zip", ".tar.bz2"):
        if base.endswith(suffix):
            return base[: -len(suffix)]
    return base


def _names(names: list[str]) -> str:
    text = ", ".join(names)
    return text if len(text) <= MAX_NAMES else text[:MAX_NAMES].rsplit(", ", 1)[0] + ", ..."


class InstallerActivity:
    """A proc.run line callback: passes a short phrase to `say` when a line tells news."""

    def __init__(self, say: Callable[[str], None]) -> None:
        self.say = say
        self.collected = 0
        self.downloading: str | None = None  # the file pip said it downloads

    def __call__(self, line: str) -> None:
        phrase = self.phrase(line.strip())
        if phrase:
            self.say(phrase)

    def phrase(self, text: str) -> str | None:
        if match := _COLLECT.match(text):
            self.collected += 1
            return f"collecting {_dist(match.group(1))} ({self.collected} so far)"
        if match := _DOWNLOAD.match(text):
            self.downloading = _dist(match.group(1))
            return f"downloading {self.downloading} ({match.group(2)})"
        if (match := _BAR.search(text)) and self.downloading:
            return f"downloaded {self.downloading} ({match.group(1)}, {match.group(2)})"
        if text.startswith("Downloaded "):
            return f"downloaded {text.removeprefix('Downloaded ')}"
        if text.startswith("Building wheels for collected packages"):
            return None  # pip's next line names the one it builds
        if match := _BUILD.match(text):
            verb = "built" if text.startswith("Built ") else "building"
            return f"{verb} {_dist(match.group(1))}"
        if match := _SATISFIED.match(text):
            return f"checking {match.group(1)}"
        if match := _INSTALLING.match(text):
            names = [n.strip() for n in match.group(1).split(",") if n.strip()]
            return f"installing {len(names)} packages: {_names(names)}"
        if match := _INSTALLED.match(text):
            return f"installed {len(match.group(1).split())} packages"
        if match := _UV_COUNT.match(text):
            verb, count = match.group(1).lower(), match.group(2)
            if verb == "prepared":
                return f"installing {count} packages"
            return f"{verb} {count} packages"
        return None
