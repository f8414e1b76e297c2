"""The report's text, written from summary.json alone, as Markdown and as self-contained HTML.

The report is a list of blocks (heading, paragraph, list, table, figure, note), rendered twice.
Every number comes from the summary and is formatted the same way everywhere: losses, accuracies
and norms with 4 decimals, gradient differences in scientific notation, steps as integers.
"""

from __future__ import annotations

import base64
import html as html_lib
import re
from pathlib import Path

from .glance import anchor, contents, glance
from .sections import environment, plural, protocol, task1
from .sections_data import baseline_section, data_of, dataset_section
from .sections_logistic import task2
from .sections_original import against_original
from .sections_softmax import task3, task4

TITLE = "Logistic and softmax regression on MNIST: TDT4265 assignment 1, reproduced"


def title(summary: dict) -> str:
    """The course report's title on MNIST; on another dataset or protocol, says which; with --only, names
    only the models the report trained (task 1 checks both)."""
    data = data_of(summary)
    logistic = "task1" in summary or "task2" in summary
    softmax = any(task in summary for task in ("task1", "task3", "task4"))
    subject = "Logistic regression" if not softmax else "Softmax regression" if not logistic else TITLE.split(" on ")[0]
    if data["name"] == "mnist" and data["protocol"] == "assignment":
        return TITLE.replace(TITLE.split(" on ")[0], subject, 1)
    protocol = ", holdout protocol" if data["protocol"] == "holdout" else ""
    return f"{subject} on {data['title']}: the experiments of TDT4265 assignment 1{protocol}"


def blocks(summary: dict) -> list[tuple]:
    """The whole report as blocks: ("h1"|"h2"|"h3"|"p"|"note", text), ("ul", items),
    ("table", header, rows, source), ("figure", path, caption)."""
    env = summary["environment"]
    doc = [("h1", title(summary)),
           ("p", f"Written by `{env['command']}` (linclass {env['linclass']}) in {env['wall_seconds']:.1f} s. "
                 "Every number below is read from `summary.json` in this folder; each table names the keys it "
                 "comes from. Every training run is kept in `runs/<name>/` (its configuration, the loss of every "
                 "step, every validation, and the final weights), so each curve and number can be checked "
                 "against the code that produced it.")]
    if env["max_epochs_override"] is not None:
        doc.append(("note", f"**Reduced configuration:** every run was capped at "
                            f"{plural(env['max_epochs_override'], 'epoch')}, a setting for tests. These numbers do not "
                            "answer the assignment."))
    if len(env["tasks"]) < 4:
        names = [name.replace("task", "task ") for name in env["tasks"]]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        doc.append(("note", f"This reproduction covers only {listed} (`--only {','.join(env['tasks'])}`)."))
    body = glance(summary) + dataset_section(summary) + protocol(summary)
    for name, section in (("task1", task1), ("task2", task2), ("task3", task3), ("task4", task4)):
        if name in summary:
            body += section(summary)
    body += baseline_section(summary) + against_original(summary) + environment(summary)
    return doc + [contents(body)] + body


# ---------------------------------------------------------------- Markdown

def _md_cell(text) -> str:
    return str(text).replace("|", "\\|")


def markdown(summary: dict) -> str:
    """report.md: figures referenced by their relative path figures/<name>.png."""
    out = []
    for block in blocks(summary):
        kind = block[0]
        if kind in ("h1", "h2", "h3"):
            out.append("#" * int(kind[1]) + " " + block[1])
        elif kind == "p":
            out.append(block[1])
        elif kind == "note":
            out.append("> " + block[1])
        elif kind == "ul":
            out.append("\n".join(f"- {item}" for item in block[1]))
        elif kind == "toc":
            out.append("**Contents:** " + " · ".join(text for level, text in block[1] if level == 2))
        elif kind == "table":
            _, header, rows, source = block
            lines = ["| " + " | ".join(map(_md_cell, header)) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(map(_md_cell, row)) + " |" for row in rows]
            out.append("\n".join(lines) + (f"\n\n*Source: {source}.*" if source else ""))
        elif kind == "figure":
            _, path, caption = block
            svg = path[:-4] + ".svg"
            out.append(f"![{Path(path).stem}]({path})\n\n*Figure: {caption}* ([SVG]({svg}))")
        elif kind == "widget":
            out.append(f"> Interactive figure: {block[2]} Open report.html in a browser to use it.")
    return "\n\n".join(out) + "\n"


# ---------------------------------------------------------------- HTML

_INLINE = [(re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
           (re.compile(r"\*\*([^*]+)\*\*"), r"<strong>\1</strong>"),
           (re.compile(r"\*([^*]+)\*"), r"<em>\1</em>")]

_STYLE = """body{font-family:system-ui,sans-serif;max-width:62rem;margin:2rem auto;padding:0 1rem;line-height:1.5}
body{color:#222}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #bbb;padding:.25rem .6rem;text-align:left}
th{background:#f0f0f0}.num{text-align:right}figure{margin:1rem 0}
img{max-width:100%;border:1px solid #ddd}figcaption{font-size:.9rem;color:#444}
blockquote{border-left:4px solid #c33;margin:1rem 0;padding:.2rem 1rem;background:#fff4f4}
code{background:#f4f4f4;padding:0 .2rem}.source{font-size:.85rem;color:#555}
.toc{background:#f7f7f7;border:1px solid #ddd;padding:.5rem 1rem;margin:1rem 0}.toc ul{margin:.2rem 0}
.table{overflow-x:auto}td,th{vertical-align:top}
@media (max-width:40rem){body{margin:1rem auto;font-size:.95rem}td,th{padding:.2rem .3rem}}"""


_NUMBER = re.compile(r"^[-+]?[\d.,]+(e[-+]?\d+)?( s)?$")  # a column of these is right-aligned
_NUM = ' class="num"'


def _inline(text) -> str:
    text = html_lib.escape(str(text), quote=False)
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return text


def _toc(headings: list[tuple[int, str]]) -> str:
    """The table of contents: each h2 with its h3s nested, linking to the heading ids."""
    items, open_sub = [], False
    for level, text in headings:
        link = f'<a href="#{anchor(text)}">{_inline(text)}</a>'
        if level == 3 and not open_sub:
            items.append("<ul>")
            open_sub = True
        elif level == 2 and open_sub:
            items.append("</ul></li>")
            open_sub = False
        elif level == 2 and items:
            items.append("</li>")
        items.append(f"<li>{link}" + ("</li>" if level == 3 else ""))
    items.append("</ul></li>" if open_sub else "</li>")
    return '<nav class="toc"><strong>Contents</strong><ul>' + "".join(items) + "</ul></nav>"


def html(summary: dict, folder: Path) -> str:
    """report.html: one file, the PNG figures embedded as base64 data URIs."""
    body = []
    for block in blocks(summary):
        kind = block[0]
        if kind == "h1":
            body.append(f"<h1>{_inline(block[1])}</h1>")
        elif kind in ("h2", "h3"):
            body.append(f'<{kind} id="{anchor(block[1])}">{_inline(block[1])}</{kind}>')
        elif kind == "toc":
            body.append(_toc(block[1]))
        elif kind == "p":
            body.append(f"<p>{_inline(block[1])}</p>")
        elif kind == "note":
            body.append(f"<blockquote>{_inline(block[1])}</blockquote>")
        elif kind == "ul":
            body.append("<ul>" + "".join(f"<li>{_inline(item)}</li>" for item in block[1]) + "</ul>")
        elif kind == "table":
            _, header, rows, source = block
            numeric = [all(_NUMBER.match(str(row[i])) for row in rows) for i in range(len(header))]
            head = "".join(f"<th{_NUM * n}>{_inline(cell)}</th>" for cell, n in zip(header, numeric))
            cells = "".join("<tr>" + "".join(f"<td{_NUM * n}>{_inline(cell)}</td>" for cell, n in zip(row, numeric))
                            + "</tr>" for row in rows)
            body.append(f'<div class="table"><table><tr>{head}</tr>{cells}</table></div>'
                        + (f'<p class="source">Source: {_inline(source)}.</p>' if source else ""))
        elif kind == "figure":
            _, path, caption = block
            data = base64.b64encode((folder / path).read_bytes()).decode("ascii")
            body.append(f'<figure><img src="data:image/png;base64,{data}" alt="{html_lib.escape(caption)}">'
                        f"<figcaption>{_inline(caption)}</figcaption></figure>")
        elif kind == "widget":  # an HTML fragment written beside the figures, with its own scripts
            _, path, caption = block
            body.append(f'<figure class="widget">{(folder / path).read_text(encoding="utf-8")}'
                        f"<figcaption>{_inline(caption)}</figcaption></figure>")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>{html_lib.escape(title(summary))}</title>'
            f"<style>{_STYLE}</style></head>\n<body>\n" + "\n".join(body) + "\n</body></html>\n")

