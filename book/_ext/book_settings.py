"""Build-time settings that a static _config.yml cannot express."""

from __future__ import annotations

import datetime
from typing import Any

from sphinx.application import Sphinx
from sphinx.config import Config


def _set_copyright(app: Sphinx, config: Config) -> None:
    # The footer shows the year the site was built.
    config.copyright = f"{datetime.date.today().year}, {config.author}"


def _drop_thebe(
    app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: object
) -> None:
    # Jupyter Book always loads sphinx-thebe, whose inline set-up script ends up
    # on the page twice (a redeclaration error) and names a CDN. The book
    # launches notebooks on Colab instead, so the pages carry none of it.
    def is_thebe(asset: Any) -> bool:
        body = getattr(asset, "attributes", {}).get("body", "")
        return "thebe" in str(getattr(asset, "filename", asset) or "") or "THEBE" in body

    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not is_thebe(asset)]


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", _set_copyright)
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
