"""Reading an HTML report back in tests: the tags it uses and the cells of its findings table."""

from __future__ import annotations

from html.parser import HTMLParser


class FindingsCells(HTMLParser):
    """Every tag seen, and the text of each <td> of the table with class "findings" (or
    `table_class`), row by row (the header row has <th> cells, so it comes out empty); `links`:
    the href of each <a> in those cells, row by row; `ids`: every id on the page."""

    def __init__(self, table_class: str = "findings") -> None:
        super().__init__(convert_charrefs=True)
        self.table_class = table_class
        self.tags: set[str] = set()
        self.rows: list[list[str]] = []
        self.links: list[list[str]] = []
        self.ids: set[str] = set()
        self.cell: list[str] | None = None
        self.findings_table = False

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        self.ids.update(value for name, value in attrs if name == "id" and value)
        if tag == "table":
            self.findings_table = ("class", self.table_class) in attrs
        if tag == "tr" and self.findings_table:
            self.rows.append([])
            self.links.append([])
        if tag == "td" and self.findings_table:
            self.cell = []
        if tag == "a" and self.cell is not None:
            self.links[-1].extend(value for name, value in attrs if name == "href")

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.rows[-1].append("".join(self.cell))
            self.cell = None
        if tag == "table":
            self.findings_table = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
