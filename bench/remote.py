"""The remote cache (issue 24): a restore from a store on loopback (moto's S3 server) against a
cold build on a fresh runner (empty uv cache, empty package cache), for the 56-package venv
set (bench/sets/medium.txt, wheels from ~/.cache/pyve-bench) and the ~150-package conda set
(conda_scale.py's channel). Each restore goes into a new project at another path with its own
empty caches; the pushed artifact's size is printed under the rows."""

from __future__ import annotations

import shutil
import socket
import sys
from pathlib import Path

from timing import pair, row, sh

TARGET = "<= 0.5x"


def _moto() -> tuple[object, str]:
    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError:
        raise SystemExit("remote mode needs moto[server] and boto3 (pip install -e '.[test]')") \
            from None
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1", aws_access_key_id="b",
                 aws_secret_access_key="b").create_bucket(Bucket="bench")
    return server, endpoint


def _size(endpoint: str) -> float:
    import boto3

    client = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="b", aws_secret_access_key="b")
    items = client.list_objects_v2(Bucket="bench").get("Contents", [])
    return sum(i["Size"] for i in items if i["Key"].endswith("env.tar.gz")) / 1e6


def run(work: Path, base_env: dict[str, str], pyve: list[str], uv: str | None,
        cache_root: Path, reps: int) -> None:
    server, endpoint = _moto()
    store = {"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "b",
             "AWS_SECRET_ACCESS_KEY": "b", "AWS_DEFAULT_REGION": "us-east-1"}
    counter = {"n": 0}
    try:
        if uv is not None:
            import real

            house = real.fetch("medium", uv)
            text = "\n".join(real.set_lines("medium")) + "\n"
            files = {"requirements.txt": text,
                     "pyve.toml": 'backend = "venv"\ninstall_deps = true\ninstaller = "uv"\n'}
            _rows("venv, 56 packages", work / "venv", files, pyve, reps, counter, {
                **base_env, "PIP_FIND_LINKS": str(house), "UV_FIND_LINKS": str(house),
                "UV_NO_CONFIG": "1"}, store, endpoint, "s3://bench/venv")
        import conda_scale

        chan, specs, _extra = conda_scale.build_channel(cache_root)
        files = {"environment.yml": conda_scale.envfile(chan, specs),
                 "pyve.toml": 'backend = "micromamba"\n'}
        _rows("conda, ~150 packages", work / "conda", files, pyve, reps, counter, base_env,
              store, endpoint, "s3://bench/conda")
    finally:
        server.stop()  # type: ignore[attr-defined]


def _rows(label: str, work: Path, files: dict[str, str], pyve: list[str], reps: int,
          counter: dict[str, int], env: dict[str, str], store: dict[str, str], endpoint: str,
          url: str) -> None:
    def fresh() -> tuple[Path, dict[str, str]]:
        counter["n"] += 1
        root = work / f"runner{counter['n']}"
        proj = root / "checkout" / "project"
        proj.mkdir(parents=True)
        for name, text in files.items():
            (proj / name).write_text(text)
        caches = {"HOME": str(root / "home"), "UV_CACHE_DIR": str(root / "uv-cache"),
                  "PIP_CACHE_DIR": str(root / "pip-cache"),
                  "PYVE_CACHE_DIR": str(root / "pkgs")}
        return proj, {**env, **caches}

    # the entry, pushed once; its lock files go into every fresh runner's checkout
    first, first_env = fresh()
    sh([*pyve, "build", "-y"], first, {**first_env, **store, "PYVE_REMOTE_CACHE": url})
    for name in ("requirements.lock.txt", "pylock.toml", "conda-lock.yml"):
        if (first / name).is_file():
            files[name] = (first / name).read_text()

    def restore() -> None:
        proj, runner = fresh()
        sh([*pyve, "build", "-y"], proj,
           {**runner, **store, "PYVE_REMOTE_CACHE": url, "PYVE_REMOTE_CACHE_PUSH": "0"})
        if not (proj / ".pyve" / "stamps").is_dir():
            raise SystemExit("the restore did not happen")

    def cold() -> None:
        proj, runner = fresh()
        sh([*pyve, "build", "-y"], proj, {**runner, "PYVE_REMOTE_CACHE": ""})

    a, b = pair(restore, cold, reps)
    row(f"{label}: restore from S3 on loopback vs cold build", a, b, TARGET)
    print(f"    artifact: env.tar.gz {_size(endpoint):.1f} MB", flush=True)
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":  # pragma: no cover
    sys.exit("run through bench/bench.py remote")
