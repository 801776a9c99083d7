"""Renderings of a scan's findings; one module per format, each exposing `render(findings, ...)`."""
