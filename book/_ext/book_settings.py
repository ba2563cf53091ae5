"""Build-time settings that a static _config.yml cannot express."""

from __future__ import annotations

import datetime

from sphinx.application import Sphinx
from sphinx.config import Config


def _set_copyright(app: Sphinx, config: Config) -> None:
    # The footer shows the year the site was built.
    config.copyright = f"{datetime.date.today().year}, {config.author}"


def setup(app: Sphinx) -> dict[str, object]:
    app.connect("config-inited", _set_copyright)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
