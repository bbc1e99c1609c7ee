"""Scenario errors from ``portal seed`` are printed once each, as ``file:line: $.path:
message`` with "did you mean" for a misspelt key (issue 18, stumble 6): over HTTP and with
``--database-url``; a JSON syntax error is ``file:line:col``. And the JSON path -> line mapper
they rely on."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from portal.cli.jsonlines import line_of
from portal_tests.cli.conftest import SEED_DATA, at, portal
from portal_tests.live import LiveServer


def misspelt(tmp_path: Path) -> tuple[Path, int]:
    """Oak Street with its first resident's ``email`` spelt ``emial``; the line of that key."""
    doc = json.loads((SEED_DATA / "oak-street-landlord12.json").read_text())
    doc["workspace"]["id"] = "ws_misspelt"
    resident = doc["residents"][0]
    resident["emial"] = resident.pop("email")
    path = tmp_path / "misspelt.json"
    text = json.dumps(doc, indent=2)
    path.write_text(text)
    line = next(n for n, s in enumerate(text.splitlines(), 1) if s.strip().startswith('"emial"'))
    return path, line


def assert_printed_once(output: str, path: Path, line: int) -> None:
    expected = f"{path}:{line}: $.residents[0].emial: "
    lines = output.splitlines()
    matches = [s for s in lines if s.startswith(expected)]
    assert len(matches) == 1, output
    assert "did you mean 'email'" in matches[0]
    assert output.count("emial") == 1, output  # the error is not repeated in a summary line
    assert output.count("did you mean") == 1, output


def test_over_http(server: LiveServer, tmp_path: Path) -> None:
    path, line = misspelt(tmp_path)

    result = at(server, "seed", str(path))

    assert result.exit_code == 2
    assert_printed_once(result.output, path, line)


def test_with_database_url(database_url: str, tmp_path: Path) -> None:
    path, line = misspelt(tmp_path)

    result = portal("seed", str(path), "--database-url", database_url)

    assert result.exit_code == 2
    assert_printed_once(result.output, path, line)


def test_a_json_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{\n  "scenario": "x",\n  "residents": [,]\n}\n')

    result = portal("seed", str(path), "--url", "http://127.0.0.1:9")  # never contacted

    assert result.exit_code == 2
    assert result.output.strip() == f"{path}:3:17: not valid JSON: Expecting value"


DOC = """{
  "workspace": {"id": "ws_a",
    "clock": {"now": "2022-02-18T22:00:00Z"}},
  "payment_sources": [
    {"key": "a", "type": "bank_account",
     "account_number": "12"},
    {"key": "b",
     "type": "card"}
  ],
  "odd.key": {"x": 1},
  "residents": []
}"""


@pytest.mark.parametrize(
    ("path", "line"),
    [
        ("$", 1),
        ("$.workspace", 2),
        ("$.workspace.clock.now", 3),
        ("$.payment_sources", 4),
        ("$.payment_sources[0]", 5),
        # A union's tag is not in the document: skipped, the field found.
        ("$.payment_sources[0].bank_account.account_number", 6),
        ("$.payment_sources[1].type", 8),
        # Missing: the deepest part that exists.
        ("$.payment_sources[1].number", 7),
        ("$.payment_sources[5].key", 4),
        ("$.nothing", 1),
        ("$.odd.key.x", 10),
        ("$.residents", 11),
    ],
)
def test_line_of(path: str, line: int) -> None:
    assert line_of(DOC, path) == line


@pytest.mark.parametrize("text", ["", "{", '{"a": }', "[" * 5000])
def test_line_of_unreadable_text_is_none(text: str) -> None:
    assert line_of(text, "$.a") is None


def test_line_of_a_parameter_is_none() -> None:
    assert line_of(DOC, "query.limit") is None


def test_line_of_every_shipped_field(tmp_path: Path) -> None:
    """Every leaf of a shipped scenario maps to the line its key is on."""
    text = (SEED_DATA / "mri-acklin.json").read_text()
    doc = json.loads(text)
    lines = text.splitlines()

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                walk(value, f"{path}.{key}")
                got = line_of(text, f"{path}.{key}")
                assert got is not None
                assert f'"{key}"' in lines[got - 1], (path, key)
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}[{i}]")

    walk(doc, "$")
