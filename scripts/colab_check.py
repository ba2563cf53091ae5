"""Run every chapter of the Colab edition the way Colab runs it, English and Chinese.

1. Convert the chapters to the Colab edition in memory (scripts/plain_jupyter.py,
   exactly what ``make colab`` writes and the site's Colab links open) and
   build the wheel of this checkout once: it stands in for the release tag.
2. Make one fresh virtual environment with what a Colab runtime has before a
   notebook runs: torch, ipykernel, matplotlib, ipywidgets, numpy; and a
   ``google.colab`` stand-in that a ``.pth`` file imports at start-up, as
   Colab's kernel has ``google.colab.output`` imported, so anywidget takes its
   Colab code path (``anywidget._util.in_colab``) and asks for the custom
   widget manager. ``masked_loss`` and ``anywidget`` are *not* installed.
3. For each chapter, in sequence: remove ``masked_loss`` from the environment
   (the first chapter also finds no ``anywidget``; keeping it afterwards saves
   time, and the set-up cell's guard installs whenever either is missing), copy the
   notebook alone into an empty directory, replace the set-up cell's git URL
   with the wheel's path (``masked_loss[book] @ file:///...whl``), and run every
   cell in a kernel of the environment. The set-up cell's own ``%pip
   install`` installs the package and its ``[book]`` extras inside the kernel.
   Afterwards the check confirms that the package came from the wheel into
   the environment.

Which Python: the environment uses the interpreter of ``.venv`` (3.11 here),
not the newest one available (3.13), because torch 2.13.0 (the pin) has a CPU
wheel on this machine for Python 3.11 only (/opt/wheels; the local index's
cap, torch 2.14.1, is cp311 too): on 3.13 pip would download the multi-GB
CUDA build from PyPI. torch is not installed a second time: a ``.pth`` file
points the environment at ``.venv``'s torch and the packages torch needs,
nothing else; pip sees it as installed, as it sees Colab's torch. pip resolves
within requirements.txt's pins (``PIP_CONSTRAINT``). ``--python`` chooses
another interpreter of the same minor version.

    python scripts/colab_check.py [--lang en|zh|all] [CHAPTER ...]

e.g. ``python scripts/colab_check.py 02_the_bug zh/02_the_bug``. Prints the
time of each chapter and exits 1 if any cell of any chapter raised.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))

import plain_jupyter  # noqa: E402

WORK = ROOT / "_build" / "colab-check"
KERNEL = "colab-check"
TIMEOUT = 600  # seconds per cell
PREINSTALLED = ("ipykernel", "matplotlib", "ipywidgets", "numpy")  # as on a Colab runtime
INSTALLED_BY_THE_SETUP_CELL = ("masked_loss",)

STANDIN_OUTPUT = '''\
"""A stand-in for Colab's ``google.colab.output`` (what anywidget calls on Colab)."""

calls = []


class _Widgets:
    _installed_url = "https://ssl.gstatic.com/colaboratory-static/widgets/colab-cdn-widget-manager/standin/manager.min.js"


_widgets = _Widgets()


def enable_custom_widget_manager():
    calls.append("enable_custom_widget_manager")


def disable_custom_widget_manager():
    calls.append("disable_custom_widget_manager")
'''


def run(*args: str | os.PathLike[str], **kwargs: object) -> None:
    subprocess.run([str(a) for a in args], check=True, **kwargs)  # type: ignore[arg-type]


def build_wheel(out: pathlib.Path) -> pathlib.Path:
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("*.whl"):
        old.unlink()
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


def site_packages(venv: pathlib.Path) -> pathlib.Path:
    return next((venv / "lib").glob("python3*/site-packages"))


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
    (site_packages(venv) / "torch-from-dot-venv.pth").write_text(str(shelf) + "\n", "utf-8")


def colab_standin(venv: pathlib.Path) -> None:
    """``google.colab.output``, importable and imported at start-up, as on Colab."""
    shelf = venv / "colab-standin"
    package = shelf / "google" / "colab"
    (package / "output").mkdir(parents=True)
    # No google/__init__.py: "google" stays a namespace package (google.protobuf lives there).
    (package / "__init__.py").write_text('"""A stand-in for Colab\'s google.colab."""\n', "utf-8")
    (package / "output" / "__init__.py").write_text(STANDIN_OUTPUT, "utf-8")
    (site_packages(venv) / "zz-colab-standin.pth").write_text(
        f"{shelf}\nimport google.colab.output\n", "utf-8"
    )


def constraints(path: pathlib.Path) -> pathlib.Path:
    """requirements.txt's pins, without the editable install of this checkout."""
    lines = [
        line
        for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith(("#", "-e"))
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def make_environment(python: str) -> pathlib.Path:
    venv = WORK / "venv"
    shutil.rmtree(venv, ignore_errors=True)
    run(python, "-m", "venv", venv)
    link_torch(venv)
    colab_standin(venv)
    bin_python = venv / "bin" / "python"
    run(bin_python, "-m", "pip", "install", "--quiet", *PREINSTALLED)
    code = (
        "import os, sys, torch; assert 'google.colab.output' in sys.modules; "
        "print(os.path.realpath(torch.__file__))"
    )
    shown = subprocess.run(
        [bin_python, "-c", code], check=True, capture_output=True, text=True, cwd=venv
    ).stdout.strip()
    if not shown.startswith(str((ROOT / ".venv").resolve())):
        raise SystemExit(f"the environment's torch is not .venv's: {shown}")
    run(bin_python, "-m", "ipykernel", "install", "--prefix", venv, "--name", KERNEL)
    return venv


def fresh_runtime(venv: pathlib.Path) -> None:
    """Remove what the set-up cell installs, as a new Colab runtime does not have it."""
    python = venv / "bin" / "python"
    run(python, "-m", "pip", "uninstall", "--quiet", "-y", *INSTALLED_BY_THE_SETUP_CELL)


def with_wheel(nb: dict, wheel: pathlib.Path) -> dict:
    """The notebook with its set-up cell installing the wheel instead of the git tag."""
    spec = f"masked_loss[book] @ git+{plain_jupyter.repository_url()}@{plain_jupyter.release_ref()}"
    local = f"masked_loss[book] @ {wheel.resolve().as_uri()}"
    cells = [c for c in nb["cells"] if "setup" in c["metadata"].get("tags", [])]
    if len(cells) != 1 or spec not in plain_jupyter.source(cells[0]):
        raise SystemExit(f"no set-up cell installing {spec}")
    cells[0]["source"] = plain_jupyter.source(cells[0]).replace(spec, local)
    return nb


def installed_from_wheel(venv: pathlib.Path) -> bool:
    code = "import os, masked_loss; print(os.path.realpath(masked_loss.__file__))"
    done = subprocess.run(
        [venv / "bin" / "python", "-c", code], capture_output=True, text=True, cwd=venv
    )
    return done.returncode == 0 and done.stdout.strip().startswith(str(venv.resolve()))


def execute(
    name: str, text: str, venv: pathlib.Path, wheel: pathlib.Path
) -> tuple[str | None, dict]:
    """Run one notebook alone in an empty directory; (None, notebook) if every cell ran."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    with tempfile.TemporaryDirectory(prefix="colab-") as empty:
        nb = with_wheel(json.loads(text), wheel)
        alone = pathlib.Path(empty) / pathlib.PurePosixPath(name).name
        alone.write_text(json.dumps(nb), encoding="utf-8")
        notebook = nbformat.read(alone, as_version=4)
        client = NotebookClient(
            notebook, kernel_name=KERNEL, timeout=TIMEOUT, resources={"metadata": {"path": empty}}
        )
        try:
            client.execute()
        except CellExecutionError as error:
            return str(error).strip().splitlines()[-1], json.loads(nbformat.writes(notebook))
    return None, json.loads(nbformat.writes(notebook))


def colab_widget_outputs(nb: dict) -> int:
    """Widget outputs that carry Colab's custom-widget-manager metadata (anywidget's Colab path)."""
    count = 0
    for cell in nb["cells"]:
        for output in cell.get("outputs", []):
            meta = output.get("metadata", {}).get("application/vnd.jupyter.widget-view+json", {})
            count += "custom_widget_manager" in meta.get("colab", {})
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("chapters", nargs="*", help="e.g. 02_the_bug or zh/02_the_bug")
    parser.add_argument("--lang", choices=("en", "zh", "all"), default="all")
    parser.add_argument("--python", default=sys.executable, help="the environment's interpreter")
    args = parser.parse_args(argv)
    edition = plain_jupyter.colab_edition()
    chosen = {
        key: text
        for key, text in edition.items()
        if (args.lang == "all" or (key.parts[1] == "zh") == (args.lang == "zh"))
        and (
            not args.chapters
            or any(
                key.as_posix() == f"colab/{c.removesuffix('.ipynb')}.ipynb" for c in args.chapters
            )
        )
    }
    if not chosen:
        raise SystemExit(f"no chapter matches {args.chapters}")
    WORK.mkdir(parents=True, exist_ok=True)
    # Nothing of this checkout may reach the kernel but the wheel.
    os.environ.pop("PYTHONPATH", None)
    start_all = time.perf_counter()
    wheel = build_wheel(WORK / "dist")
    venv = make_environment(args.python)
    version = subprocess.run(
        [venv / "bin" / "python", "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    print(f"built {wheel.name}; environment: {version}, torch from .venv, google.colab stand-in")
    os.environ["JUPYTER_PATH"] = str(venv / "share" / "jupyter")
    os.environ["PIP_CONSTRAINT"] = str(constraints(WORK / "constraints.txt"))
    failures = []
    widgets = 0
    for key, text in chosen.items():
        start = time.perf_counter()
        fresh_runtime(venv)
        error, executed = execute(key.as_posix(), text, venv, wheel)
        if error is None and not installed_from_wheel(venv):
            error = "the set-up cell did not install masked_loss from the wheel"
        widgets += colab_widget_outputs(executed)
        took = time.perf_counter() - start
        print(f"{key.as_posix()} ({took:.0f} s): {f'FAIL: {error}' if error else 'ok'}", flush=True)
        if error:
            failures.append(key.as_posix())
    total = time.perf_counter() - start_all
    print(f"{widgets} widget outputs carry Colab's custom-widget-manager metadata")
    if failures:
        print(f"{len(failures)} of {len(chosen)} notebooks failed: {failures} ({total:.0f} s)")
        return 1
    print(f"all {len(chosen)} notebooks of the Colab edition ran as on Colab ({total:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
