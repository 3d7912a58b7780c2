"""The volume as one self-contained HTML page: Markdown rendered by markdown-it-py with raw
HTML disabled (an edit cannot inject markup or script), headings given the anchors the
contents list links to, and a small stylesheet inline (no fonts or files from elsewhere)."""

from html import escape

from markdown_it import MarkdownIt
from markdown_it.rules_core import StateCore

from domain.volume import VOLUME_TITLE, slug

# the page loads nothing and runs nothing: only its own inline style
CONTENT_SECURITY_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:"
STYLE = """
body { font: 17px/1.55 Georgia, 'Times New Roman', serif; color: #1d1d1f; margin: 0;
  background: #fbfaf7; }
main { max-width: 46rem; margin: 0 auto; padding: 2.5rem 1.25rem 4rem; }
h1, h2, h3, h4, h5, h6 { font-family: 'Helvetica Neue', Arial, sans-serif; line-height: 1.25; }
h1 { font-size: 2.2rem; margin-bottom: .25rem; }
h2 { font-size: 1.6rem; margin-top: 3rem; padding-bottom: .3rem; border-bottom: 3px solid #0b6e4f; }
h3 { font-size: 1.3rem; margin-top: 2.5rem; color: #0b6e4f; }
h4 { font-size: 1.05rem; text-transform: uppercase; letter-spacing: .04em; margin-bottom: .3rem; }
h5, h6 { font-size: 1rem; margin-bottom: .2rem; }
a { color: #0b5394; }
code, pre { font-family: Menlo, Consolas, monospace; font-size: .9em; background: #f0eee8; }
pre { padding: .75rem; overflow-x: auto; }
blockquote { margin-left: 0; padding-left: 1rem; border-left: 3px solid #ccc; color: #555; }
table { border-collapse: collapse; } td, th { border: 1px solid #ccc; padding: .3rem .6rem; }
@media print { body { background: none; } h2 { break-before: page; } a { color: inherit; } }
"""


def _anchors(state: StateCore) -> None:
    """Give each heading the id ``domain.volume.slug`` gives its text (``-1``, ``-2`` for
    repeats, as GitHub does), so the contents list's links land."""
    seen: dict[str, int] = {}
    tokens = state.tokens
    for index, token in enumerate(tokens):
        if token.type != "heading_open":
            continue
        inline = tokens[index + 1]
        text = "".join(
            child.content
            for child in inline.children or []
            if child.type in ("text", "code_inline")
        )
        base = slug(text)
        count = seen.get(base, 0)
        seen[base] = count + 1
        token.attrSet("id", base if count == 0 else f"{base}-{count}")


def _renderer() -> MarkdownIt:
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
    md.enable("table")
    md.core.ruler.push("heading_anchors", _anchors)
    return md


def render_html(markdown: str, *, lang: str = "en") -> str:
    """A whole HTML document of the volume's Markdown."""
    body = _renderer().render(markdown)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(lang)}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">\n'
        f"<title>{escape(VOLUME_TITLE)}</title>\n<style>{STYLE}</style>\n</head>\n"
        f"<body>\n<main>\n{body}</main>\n</body>\n</html>\n"
    )
