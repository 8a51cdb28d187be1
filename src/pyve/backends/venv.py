"""The venv backend: .venv from the decided interpreter, pip dependencies, a hashed lock."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

from pyve import proc
from pyve.backends import pip
from pyve.backends.base import Stage
from pyve.decision import Decision
from pyve.errors import PyveError
from pyve.fingerprint import data_digest
from pyve.fsutil import atomic_write_text
from pyve.project import VENV_DIR, Project

MARKER = f"{VENV_DIR}/.pyve-env.json"  # written last: a half-made venv has none


def read_pyvenv_cfg(env: Path) -> dict[str, str]:
    cfg: dict[str, str] = {}
    path = env / "pyvenv.cfg"
    if path.is_file():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            key, sep, value = line.partition("=")
            if sep:
                cfg[key.strip()] = value.strip()
    return cfg


def interpreter_stamp(path: str) -> dict[str, object]:
    """Identity of an interpreter binary: an upgrade in place changes size or mtime."""
    real = os.path.realpath(path)
    stat = os.stat(real)
    return {"path": real, "size": stat.st_size, "mtime": stat.st_mtime}


class VenvBackend:
    name = "venv"

    def env_dir(self, project: Project, decision: Decision) -> Path:
        return project.root / VENV_DIR

    def python(self, project: Project) -> Path:
        return project.root / VENV_DIR / "bin" / "python"

    def lock_stage(self) -> str:
        return "freeze"

    def run_env(self, project: Project, decision: Decision) -> dict[str, str]:
        env_dir = str(self.env_dir(project, decision))
        return {"VIRTUAL_ENV": env_dir, "PATH": f"{env_dir}/bin{os.pathsep}"}

    def stages(self, project: Project, decision: Decision) -> list[Stage]:
        stages = [
            detect_stage(project, decision),
            Stage(
                name="create-env",
                action=lambda: self.create(project, decision),
                targets=[MARKER],
                config={"python": decision.python_version, "python_path": decision.python_path},
                checks=[lambda: self.check_alive(project, decision)],
                after=["detect"],
                missing_reason="environment missing",
            ),
        ]
        last = "create-env"
        if decision.pip_sources:
            python = self.python(project)
            stages.append(Stage(
                name="pip-deps",
                action=lambda: pip.install(python, pip.install_args(list(decision.pip_sources)),
                                           project.root, "pip install"),
                file_dep=list(decision.pip_sources),
                config={"sources": list(decision.pip_sources)},
                after=["create-env"],
            ))
            last = "pip-deps"
        stages.append(Stage(
            name="freeze",
            action=lambda: self.freeze(project),
            targets=[pip.LOCK_FILE],
            after=[last],
            missing_reason=f"{pip.LOCK_FILE} missing",
        ))
        return stages

    def create(self, project: Project, decision: Decision) -> None:
        env = self.env_dir(project, decision)
        if env.exists() or env.is_symlink():
            if env.is_symlink() or not (env / "pyvenv.cfg").is_file():
                raise PyveError(
                    f"{VENV_DIR} exists but is not a virtual environment; pyve will not delete it",
                    hint=f"move {VENV_DIR} away, then run `pyve build`",
                )
            shutil.rmtree(env)
        wheel = bundled_pip_wheel(decision.python_path, decision.python_version)
        venv_args = ["--without-pip"] if wheel else []
        proc.run([decision.python_path, "-m", "venv", *venv_args, env], cwd=project.root,
                 what=f"python {decision.python_version} -m venv")
        if wheel:
            seed_pip(env, wheel, decision.python_version)
        marker = {
            "id": uuid.uuid4().hex,
            "python": decision.python_version,
            "interpreter": interpreter_stamp(decision.python_path),
        }
        atomic_write_text(project.root / MARKER, json.dumps(marker, indent=2) + "\n")

    def check_alive(self, project: Project, decision: Decision) -> str | None:
        """The venv's interpreter still runs the Python it was made from."""
        marker_path = project.root / MARKER
        if not marker_path.is_file():
            return None  # the missing target says it
        marker = json.loads(marker_path.read_text(encoding="utf-8"))
        cfg = read_pyvenv_cfg(self.env_dir(project, decision))
        version = cfg.get("version") or cfg.get("version_info", "")
        if version and version != marker["python"]:
            return f"python {marker['python']} -> {version}"
        if not self.python(project).exists():
            return f"python {marker['python']} of the environment is gone"
        try:
            now = interpreter_stamp(decision.python_path)
        except OSError:
            return f"python {decision.python_version} interpreter missing"
        if now != marker["interpreter"]:
            return f"python {marker['python']} interpreter changed on disk"
        return None

    def freeze(self, project: Project) -> None:
        if not (project.root / MARKER).is_file():
            raise PyveError("no environment to lock yet", hint="run `pyve build` first")
        pip.write_lock(self.python(project), project.root)


def bundled_pip_wheel(python: str, version: str) -> Path | None:
    """The pip wheel that ships with the interpreter (what ensurepip would install)."""
    minor = ".".join(version.split(".")[:2])
    base = Path(os.path.realpath(python)).parent.parent
    wheels = sorted((base / "lib" / f"python{minor}" / "ensurepip" / "_bundled").glob("pip-*.whl"))
    return wheels[-1] if wheels else None


def seed_pip(env: Path, wheel: Path, version: str) -> None:
    """Unpack pip into the venv with `installer`: the same files ensurepip puts there, about
    ten times faster, because ensurepip starts a pip process to install pip."""
    from installer import install
    from installer.destinations import SchemeDictionaryDestination
    from installer.sources import WheelFile

    minor = ".".join(version.split(".")[:2])
    site = str(env / "lib" / f"python{minor}" / "site-packages")
    destination = SchemeDictionaryDestination(
        {"purelib": site, "platlib": site, "headers": str(env / "include"),
         "scripts": str(env / "bin"), "data": str(env)},
        interpreter=str(env / "bin" / "python"), script_kind="posix",
        bytecode_optimization_levels=(),
    )
    with WheelFile.open(wheel) as source:
        install(source, destination, {"INSTALLER": b"pyve"})


def detect_stage(project: Project, decision: Decision) -> Stage:
    """Record the decision in .pyve/decision.json; its stamp changes only when it does."""
    recorded = {
        "backend": decision.backend,
        "python": decision.python_version,
        "python_path": decision.python_path,
        "pip_sources": list(decision.pip_sources),
    }

    def write() -> str:
        atomic_write_text(project.state_dir / "decision.json",
                          json.dumps(decision.as_dict(), indent=2) + "\n")
        return data_digest(recorded)

    return Stage(name="detect", action=write, targets=[".pyve/decision.json"], config=recorded)
