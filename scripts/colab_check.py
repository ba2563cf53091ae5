"""Run every chapter the way a reader on Colab does: alone, with the released package.

1. Build the wheel of this checkout (the package the set-up cell's git tag
   installs) with setuptools' own build hooks.
2. Make a fresh virtual environment and install the wheel with its ``[book]``
   extras, as the set-up cell's ``%pip install "masked_loss[book] @ ..."`` does,
   plus ipykernel (Colab's runtime has it). The extras resolve within
   requirements.txt's pins. torch is not downloaded again: a ``.pth`` file
   points the new environment at ``.venv``'s torch and the packages torch
   needs, and nothing else from ``.venv``.
3. Copy each notebook *alone* into an empty directory and execute it, top to
   bottom, in a kernel of the new environment.

    python scripts/colab_check.py [notebooks/06_shapes.ipynb ...]
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
WORK = ROOT / "_build" / "colab"
KERNEL = "colab-check"
TIMEOUT = 600  # seconds per cell


def run(*args: str | os.PathLike[str], **kwargs: object) -> None:
    subprocess.run([str(a) for a in args], check=True, **kwargs)  # type: ignore[arg-type]


def build_wheel(out: pathlib.Path) -> pathlib.Path:
    out.mkdir(parents=True, exist_ok=True)
    code = (
        "import sys; from setuptools import build_meta as b; "
        "print('BUILT', b.build_wheel(sys.argv[1]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(out)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    shutil.rmtree(ROOT / "build", ignore_errors=True)
    return out / done.stdout.rsplit("BUILT ", 1)[1].strip()


def requirement_names(distribution: str) -> list[str]:
    names = []
    for requirement in importlib.metadata.requires(distribution) or []:
        if "extra ==" in requirement:
            continue
        names.append(re.split(r"[ ;<>=!~\[]", requirement, maxsplit=1)[0])
    return names


def torch_closure() -> list[importlib.metadata.Distribution]:
    """torch and every distribution it needs, as installed in the running environment."""
    seen: dict[str, importlib.metadata.Distribution] = {}
    todo = ["torch"]
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        try:
            seen[key] = importlib.metadata.distribution(name)
        except importlib.metadata.PackageNotFoundError:
            continue
        todo += requirement_names(name)
    return list(seen.values())


def link_torch(venv: pathlib.Path) -> None:
    """Expose .venv's torch (and its dependencies, nothing else) to the new environment."""
    shelf = venv / "torch-from-dot-venv"
    shelf.mkdir()
    for dist in torch_closure():
        base = pathlib.Path(str(dist.locate_file("")))
        tops = {pathlib.Path(str(f)).parts[0] for f in dist.files or []}
        for top in tops:
            source = base / top
            if top.endswith(".pth") or top == ".." or not source.exists():
                continue
            target = shelf / top
            if not target.exists():
                target.symlink_to(source)
    site = next((venv / "lib").glob("python3*/site-packages"))
    (site / "torch-from-dot-venv.pth").write_text(str(shelf) + "\n", encoding="utf-8")


def constraints(path: pathlib.Path) -> pathlib.Path:
    """requirements.txt's pins, without the editable install of this checkout."""
    lines = [
        line
        for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith(("#", "-e"))
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_environment(wheel: pathlib.Path) -> pathlib.Path:
    venv = WORK / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    run(sys.executable, "-m", "venv", venv)
    link_torch(venv)
    python = venv / "bin" / "python"
    pins = constraints(WORK / "constraints.txt")
    # What the set-up cell runs (`%pip install "masked_loss[book] @ git+...@vX.Y.Z"`),
    # with the wheel standing in for the tag.
    run(python, "-m", "pip", "install", "--quiet", "-c", pins, f"{wheel}[book]", "ipykernel")
    # Run from elsewhere, so that this checkout's folder cannot stand in for the wheel.
    code = (
        "import os, torch, masked_loss; "
        "print(os.path.realpath(torch.__file__), os.path.realpath(masked_loss.__file__))"
    )
    shown = subprocess.run(
        [python, "-c", code], check=True, capture_output=True, text=True, cwd=venv
    ).stdout.split()
    if not shown[0].startswith(str(ROOT / ".venv")) or not shown[1].startswith(str(venv)):
        raise SystemExit(f"the environment is not what it should be: {shown}")
    run(python, "-m", "ipykernel", "install", "--prefix", venv, "--name", KERNEL)
    return venv


def execute(notebook: pathlib.Path, venv: pathlib.Path) -> str | None:
    """Run one notebook alone in an empty directory; None if every cell ran."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    with tempfile.TemporaryDirectory(prefix="colab-") as empty:
        alone = pathlib.Path(empty) / notebook.name
        shutil.copy(notebook, alone)
        nb = nbformat.read(alone, as_version=4)
        os.environ["JUPYTER_PATH"] = str(venv / "share" / "jupyter")
        client = NotebookClient(
            nb, kernel_name=KERNEL, timeout=TIMEOUT, resources={"metadata": {"path": empty}}
        )
        try:
            client.execute()
        except CellExecutionError as error:
            return str(error).strip().splitlines()[-1]
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("notebooks", nargs="*", type=pathlib.Path)
    args = parser.parse_args()
    notebooks = args.notebooks or sorted((ROOT / "notebooks").glob("*.ipynb"))
    WORK.mkdir(parents=True, exist_ok=True)
    wheel = build_wheel(WORK / "dist")
    print(f"built {wheel.name}")
    venv = make_environment(wheel)
    failures = []
    for notebook in notebooks:
        start = time.perf_counter()
        error = execute(notebook.resolve(), venv)
        took = time.perf_counter() - start
        status = f"FAIL: {error}" if error else "ok"
        print(f"{notebook.name} ({took:.0f} s): {status}")
        if error:
            failures.append(notebook.name)
    if failures:
        print(f"{len(failures)} of {len(notebooks)} notebooks failed on their own: {failures}")
        return 1
    print(f"all {len(notebooks)} notebooks ran on their own with the wheel and its [book] extras")
    return 0


if __name__ == "__main__":
    sys.exit(main())
