"""Example project for pyve's README: prints the version of its one dependency."""

import requests

print(f"requests {requests.__version__} from the project's .venv")
