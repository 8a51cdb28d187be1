#!/usr/bin/env python3
"""Write docs/commands.md from pyve.cli.build_parser() (the one definition of the CLI).

    python tools/gen_docs.py          # rewrite docs/commands.md
    python tools/gen_docs.py --check  # exit 1 if docs/commands.md is out of date
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "docs" / "commands.md"


def render() -> str:
    sys.path.insert(0, str(ROOT / "src"))
    from pyve.cli import build_parser
    from pyve.clidoc import markdown

    return markdown(build_parser())


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        current = TARGET.read_text(encoding="utf-8") if TARGET.is_file() else ""
        if current != text:
            print(f"{TARGET.relative_to(ROOT)} is out of date: run python tools/gen_docs.py",
                  file=sys.stderr)
            return 1
        return 0
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
