"""An offline sample news site, written by us, served on loopback.

`newsbeam demo` and the end-to-end tests run the pipeline against it: four fictional
outlets with their own page templates, RSS/Atom/JSON feeds, and deliberate trouble
(syndicated and copied stories, tracking-parameter URL variants, a JavaScript-only page,
dead links and a dead feed). `load_manifest()` describes every page and feed entry and
what a correct pipeline should make of it.

    with serve_site() as site:
        feeds = render_feed_list("yaml", site.base_url, tmp_path)
        ...  # run the pipeline on `feeds`
        assert any(r.path.startswith("/robots.txt") for r in site.requests)

All stories, people and quotes are invented; places and institutions are real names
used for realism only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .server import (
    BASE_PLACEHOLDER,
    CONTENT_TYPES,
    FILES_DIR,
    LAST_MODIFIED,
    SITE_DIR,
    RecordedRequest,
    RequestLog,
    SiteServer,
    content_type_for,
    render,
    resolve_site_path,
    serve_site,
)

__all__ = [
    "BASE_PLACEHOLDER",
    "CONTENT_TYPES",
    "FEED_LIST_KINDS",
    "FILES_DIR",
    "LAST_MODIFIED",
    "LISTS_DIR",
    "MANIFEST_PATH",
    "SITE_DIR",
    "RecordedRequest",
    "RequestLog",
    "SiteServer",
    "content_type_for",
    "feed_list_paths",
    "load_manifest",
    "render",
    "render_feed_list",
    "resolve_site_path",
    "serve_site",
]

LISTS_DIR = FILES_DIR / "lists"
MANIFEST_PATH = FILES_DIR / "manifest.json"

# kind -> file name of the feed list in that format
FEED_LIST_KINDS: dict[str, str] = {
    "txt": "feeds.txt",
    "opml": "feeds.opml",
    "yaml": "feeds.yaml",
}
_KIND_ALIASES = {
    "text": "txt",
    "yml": "yaml",
    **{name: kind for kind, name in FEED_LIST_KINDS.items()},
}


def feed_list_paths() -> dict[str, Path]:
    """The demo's feed lists (still holding `{{BASE}}`), keyed "txt", "opml", "yaml"."""
    return {kind: LISTS_DIR / name for kind, name in FEED_LIST_KINDS.items()}


def render_feed_list(kind: str, base_url: str, dest: Path) -> Path:
    """Write the feed list of `kind` with `{{BASE}}` replaced by `base_url`.

    `kind` is "txt", "opml" or "yaml" (or the file name, e.g. "feeds.yaml"). If `dest` is
    an existing directory the file keeps its name inside it; otherwise `dest` is the file
    to write (parent directories are created). Returns the written path.
    """
    key = _KIND_ALIASES.get(kind.lower(), kind.lower())
    if key not in FEED_LIST_KINDS:
        raise ValueError(
            f"unknown feed list kind {kind!r}; expected one of {sorted(FEED_LIST_KINDS)}"
        )
    source = feed_list_paths()[key]
    target = dest / source.name if dest.is_dir() else dest
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(render(source.read_text(encoding="utf-8"), base_url), encoding="utf-8")
    return target


def load_manifest(base_url: str | None = None) -> dict[str, Any]:
    """The facts the site was built to exhibit (files/README.md describes the layout).

    With `base_url`, every `{{BASE}}` in it (feed URLs, entry links) is replaced first.
    """
    text = MANIFEST_PATH.read_text(encoding="utf-8")
    if base_url is not None:
        text = render(text, base_url)
    manifest: dict[str, Any] = json.loads(text)
    return manifest
