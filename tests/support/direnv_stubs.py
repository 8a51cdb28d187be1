"""The direnv stdlib functions pyve's .envrc uses, as small stand-ins (direnv itself is not
installed here): sourcing the .envrc after these is what direnv's evaluation of it does.
Shared by tests/e2e/test_activation.py and bench/bench.py."""

DIRENV_STUBS = """
PATH_add() { export PATH="$1:$PATH"; }
watch_file() { :; }
has() { type "$1" >/dev/null 2>&1; }
log_error() { echo "direnv-error: $*" >&2; }
dotenv_if_exists() { if [[ -f "$1" ]]; then set -a; . "$1"; set +a; fi; }
"""
