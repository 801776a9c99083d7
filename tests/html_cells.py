"""Reading an HTML report back in tests: the tags it uses and the cells of its findings table."""

from __future__ import annotations

from html.parser import HTMLParser


class FindingsCells(HTMLParser):
    """Every tag seen, and the text of each <td> of the table with class "findings", row by row
    (the header row has <th> cells, so it comes out empty)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: set[str] = set()
        self.rows: list[list[str]] = []
        self.cell: list[str] | None = None
        self.findings_table = False

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        if tag == "table":
            self.findings_table = ("class", "findings") in attrs
        if tag == "tr" and self.findings_table:
            self.rows.append([])
        if tag == "td" and self.findings_table:
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.rows[-1].append("".join(self.cell))
            self.cell = None
        if tag == "table":
            self.findings_table = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)
