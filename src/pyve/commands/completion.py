"""`pyve completion bash|zsh`: print a completion script generated from the parser."""

from __future__ import annotations

from argparse import Namespace

from pyve import clidoc
from pyve.cli import LEGACY, build_parser


def run(args: Namespace) -> int:
    parser = build_parser()
    if args.shell == "zsh":
        print(clidoc.zsh(parser), end="")
    else:
        print(clidoc.bash(parser, tuple(LEGACY)), end="")
    return 0
