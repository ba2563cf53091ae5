"""Cut a release: check that every place names the same version, build the editions, tag.

    python scripts/release.py            # or: make release
    python scripts/release.py --check    # only the checks, nothing written

Refuses (exit 1, saying why) when

- ``CHANGELOG.md`` has an "Unreleased" section with entries (move them under
  a version heading first);
- the versions disagree: ``masked_loss.__version__``, the newest version
  heading of ``CHANGELOG.md``, the comment line of ``requirements.txt`` that
  names the package version, the tag the notebooks' set-up cells install and
  the tag the site's Colab links open (``book/_ext/book_settings.py``);
- the working tree has uncommitted changes, or the tag exists already.

Then it builds the student edition (``_build/student``, with its zip) and the
Colab edition (``colab/``, committed: the Colab links open it at the tag); if
that changed ``colab/``, it stops and asks for the commit, since the tag must
hold it. Last it creates the annotated tag ``v<version>`` on HEAD, locally,
and prints the commands that publish it (pushing is the maintainer's step).
``masked_loss`` is not on PyPI: the tag is what readers install,
``pip install "masked_loss[book] @ git+<repository>@v<version>"``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPTS = pathlib.Path(__file__).resolve().parent
REQUIREMENT_COMMENT = re.compile(r"^# masked_loss==(\S+?):", re.MULTILINE)
SETUP_TAG = re.compile(r"masked_loss\[book\] @ git\+\S+@v([^\"'\s]+)")


class ReleaseError(RuntimeError):
    """The release cannot be cut as things stand."""


def package_version(root: pathlib.Path) -> str:
    init = (root / "masked_loss" / "__init__.py").read_text(encoding="utf-8")
    match = re.search(r'^__version__ = "([^"]+)"', init, re.MULTILINE)
    if not match:
        raise ReleaseError("masked_loss/__init__.py has no __version__")
    return match.group(1)


def unreleased_entries(changelog: str) -> list[str]:
    """The entries under an "Unreleased" heading, if there is one."""
    match = re.search(r"^## Unreleased[^\n]*\n(.*?)(?=^## |\Z)", changelog, re.M | re.S)
    if not match:
        return []
    return [line for line in match.group(1).splitlines() if re.match(r"^\s*[-*+] \S", line)]


def changelog_version(changelog: str) -> str:
    match = re.search(r"^## v?(\d+\.\d+\.\d+\S*)", changelog, re.MULTILINE)
    if not match:
        raise ReleaseError("CHANGELOG.md has no version heading (## X.Y.Z)")
    return match.group(1)


def requirements_version(text: str) -> str:
    match = REQUIREMENT_COMMENT.search(text)
    if not match:
        raise ReleaseError(
            "requirements.txt has no comment line naming the package version "
            "('# masked_loss==X.Y.Z: ...')"
        )
    return match.group(1)


def setup_cell_versions(root: pathlib.Path) -> dict[str, set[str]]:
    """The tag each notebook's set-up cell installs (chapters, and the Colab edition if present)."""
    found: dict[str, set[str]] = {}
    for folder in ("notebooks", "colab"):
        for path in sorted((root / folder).rglob("*.ipynb")):
            if ".ipynb_checkpoints" in path.parts:
                continue
            cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
            for cell in cells:
                text = (
                    "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
                )
                if cell["cell_type"] == "code" and "setup" in cell["metadata"].get("tags", []):
                    for version in SETUP_TAG.findall(text):
                        found.setdefault(version, set()).add(path.relative_to(root).as_posix())
    return found


def colab_link_version(root: pathlib.Path) -> str:
    """The tag in the Colab link the site builds for a chapter (book/_ext/book_settings.py)."""
    path = root / "book" / "_ext" / "book_settings.py"
    spec = importlib.util.spec_from_file_location(f"_book_settings_{abs(hash(root))}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    config = (root / "_config.yml").read_text(encoding="utf-8")
    repository = re.search(r"^\s+url:\s*(\S+)", config, re.MULTILINE).group(1)
    link = module.colab_link(repository, "notebooks/02_the_bug")
    match = re.search(r"/blob/v([^/]+)/", link or "")
    if not match:
        raise ReleaseError(f"the site's Colab link names no tag: {link}")
    return match.group(1)


def check(root: pathlib.Path = ROOT) -> str:
    """The version to release; ReleaseError if the files are not ready for it."""
    changelog = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    entries = unreleased_entries(changelog)
    if entries:
        raise ReleaseError(
            f"CHANGELOG.md has an Unreleased section with {len(entries)} entries: "
            "give them a version heading (## X.Y.Z (date)) and set __version__ to it"
        )
    version = package_version(root)
    named = {
        "masked_loss.__version__": version,
        "the newest CHANGELOG.md heading": changelog_version(changelog),
        "requirements.txt's masked_loss comment": requirements_version(
            (root / "requirements.txt").read_text(encoding="utf-8")
        ),
        "the site's Colab links": colab_link_version(root),
    }
    for tagged, files in setup_cell_versions(root).items():
        named[f"the set-up cells of {', '.join(sorted(files)[:3])}"] = tagged
    wrong = {where: v for where, v in named.items() if v != version}
    if wrong:
        listed = "; ".join(f"{where} says {v}" for where, v in wrong.items())
        raise ReleaseError(f"versions disagree: masked_loss.__version__ is {version}, but {listed}")
    return version


def git(root: pathlib.Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise ReleaseError(f"git {' '.join(args)}: {done.stderr.strip()}")
    return done.stdout


def ready_to_tag(root: pathlib.Path, version: str) -> None:
    tag = f"v{version}"
    if git(root, "tag", "--list", tag).strip():
        raise ReleaseError(f"the tag {tag} exists already: bump __version__ for a new release")
    changed = [line for line in git(root, "status", "--porcelain").splitlines() if line[:2] != "??"]
    if changed:
        raise ReleaseError(
            f"uncommitted changes ({len(changed)} files, e.g. {changed[0][3:]}): "
            "the tag would not hold them; commit first"
        )


def create_tag(root: pathlib.Path, version: str) -> str:
    tag = f"v{version}"
    git(root, "tag", "-a", tag, "-m", f"masked_loss {version}")
    return tag


def build_editions(root: pathlib.Path) -> None:
    sys.path.insert(0, str(SCRIPTS))
    import make_student
    import plain_jupyter

    # The same chapters as `make student`: English, then Chinese (zh/).
    report = make_student.build(make_student.all_chapters(), root / "_build" / "student")
    print(f"student edition: {len(report)} notebooks -> _build/student/{make_student.ZIP_NAME}")
    count = plain_jupyter.write_colab(root / "colab")
    print(f"Colab edition: {count} notebooks -> colab/")
    changed = git(root, "status", "--porcelain", "--", "colab").strip()
    if changed:
        raise ReleaseError(
            "the Colab edition changed (colab/): review and commit it, then run make release again"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only check; write nothing")
    args = parser.parse_args(argv)
    try:
        version = check(ROOT)
        print(f"every place names {version}")
        if args.check:
            return 0
        ready_to_tag(ROOT, version)
        build_editions(ROOT)
        tag = create_tag(ROOT, version)
    except ReleaseError as error:
        print(f"release: refused: {error}", file=sys.stderr)
        return 1
    print(f"created the annotated tag {tag} on HEAD. To publish it (the maintainer's step):")
    print(f"    git push origin main && git push origin {tag}")
    print("The Pages workflow deploys only once the tag is on origin.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
