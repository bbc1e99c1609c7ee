"""Where a JSON path sits in a file: ``$.residents[0].emial`` -> the line of ``"emial"``.

The portal names a bad field of a scenario by its JSON path (``$.a.b[0].c``). To print
``file.json:12: $.residents[0].emial: ...`` the CLI parses the file's text once more, keeping
the offset of every value and object key, and walks the path. A segment the document does not
have (a union's tag such as ``bank_account``, or a required field that is missing) is skipped, so
the line is that of the deepest part that exists. Only called after ``json.loads`` accepted
the text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

_SPACE = re.compile(r"[ \t\n\r]*")
_SCALAR = re.compile(r"-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_INDEX = re.compile(r"\[(\d+)\]")
_SEGMENT = re.compile(r"\.[^.\[]*|\[[^\]]*\]")


@dataclass
class _Node:
    offset: int
    members: dict[str, tuple[int, _Node]] | None = None
    """An object's members: key -> (the key's offset, its value)."""
    items: list[_Node] = field(default_factory=list)


def _skip(text: str, i: int) -> int:
    match = _SPACE.match(text, i)
    assert match is not None
    return match.end()


def _string(text: str, i: int) -> tuple[str, int]:
    match = _STRING.match(text, i)
    if match is None:
        raise ValueError(f"not a JSON string at offset {i}")
    return str(json.loads(match.group())), match.end()


def _value(text: str, i: int) -> tuple[_Node, int]:
    i = _skip(text, i)
    opening = text[i]
    if opening == "{":
        node = _Node(i, members={})
        assert node.members is not None
        i = _skip(text, i + 1)
        if text[i] == "}":
            return node, i + 1
        while True:
            key_at = _skip(text, i)
            key, i = _string(text, key_at)
            value, i = _value(text, _skip(text, i) + 1)  # past the ':'
            node.members[key] = (key_at, value)  # a repeated key: the last wins, as in json
            i = _skip(text, i)
            if text[i] == "}":
                return node, i + 1
            i += 1  # the ','
    if opening == "[":
        node = _Node(i)
        i = _skip(text, i + 1)
        if text[i] == "]":
            return node, i + 1
        while True:
            item, i = _value(text, i)
            node.items.append(item)
            i = _skip(text, i)
            if text[i] == "]":
                return node, i + 1
            i += 1
    if opening == '"':
        return _Node(i), _string(text, i)[1]
    scalar = _SCALAR.match(text, i)
    if scalar is None:
        raise ValueError(f"not JSON at offset {i}")
    return _Node(i), scalar.end()


def _offset(root: _Node, path: str) -> int:
    node, best, rest = root, root.offset, path[1:]
    while rest:
        index = _INDEX.match(rest)
        if index and int(index.group(1)) < len(node.items):
            node = node.items[int(index.group(1))]
            best, rest = node.offset, rest[index.end() :]
            continue
        if rest.startswith(".") and node.members:
            # The longest key that the path continues with (a key may itself hold a dot).
            keys = [
                k
                for k in node.members
                if rest[1:].startswith(k) and rest[1 + len(k) : 2 + len(k)] in ("", ".", "[")
            ]
            if keys:
                key = max(keys, key=len)
                best, node = node.members[key]
                rest = rest[1 + len(key) :]
                continue
        segment = _SEGMENT.match(rest)
        if segment is None or not segment.group():
            break
        rest = rest[segment.end() :]  # not in the document: look for the rest here
    return best


def line_of(text: str, path: str) -> int | None:
    """The 1-based line of ``path`` (``$``-rooted) in the JSON ``text``; None when the path is
    not a JSON path or the text cannot be read."""
    if not path.startswith("$"):
        return None
    start = 1 if text.startswith("\ufeff") else 0
    try:
        root, _ = _value(text, start)
    except (ValueError, IndexError, RecursionError):
        return None
    return text.count("\n", 0, _offset(root, path)) + 1
