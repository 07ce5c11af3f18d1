"""Parse one BibTeX entry, strictly, so that an entry that closes early or runs on is refused where it goes wrong.

The grammar is BibTeX's own for a single entry: `@type{key, name = value, ...}`
with nothing after it but white space, where a value is `{text}` (braces
balanced inside), `"text"`, a number or a macro name, joined by `#`. Field
names are case-insensitive and may be given once. Entries delimited by
parentheses, @string and @comment are not used in the knowledge files and are
refused.
"""

import re
from dataclasses import dataclass
from typing import NoReturn

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_\-:.+/']*")
KEY = re.compile(r"[^\s,{}()=\"#%']+")
NUMBER = re.compile(r"[0-9]+")


class BibtexError(ValueError):
    """The entry does not parse; the message gives the line and column."""


@dataclass(frozen=True)
class BibtexEntry:
    entry_type: str  # lower case: "article"
    key: str
    fields: dict[str, str]  # lower-case names; values as written, outer delimiters removed


def parse_bibtex(text: str) -> BibtexEntry:
    return _Parser(text).entry()


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.at = 0

    def entry(self) -> BibtexEntry:
        self.expect("@", "an entry starts with '@'")
        entry_type = self.match(NAME, "an entry type such as article").lower()
        if entry_type in {"string", "comment", "preamble"}:
            self.fail(f"@{entry_type} is not an entry")
        self.expect("{", "'{' after the entry type")
        key = self.match(KEY, "the entry's key")
        fields: dict[str, str] = {}
        while self.skip_space() == ",":
            self.at += 1
            if self.skip_space() == "}":
                break
            start = self.at
            name = self.match(NAME, "a field name").lower()
            if name in fields:
                self.at = start
                self.fail(f"field {name!r} is given twice")
            self.expect("=", f"'=' after field {name!r}")
            fields[name] = self.value()
        self.expect("}", "',' or the '}' that closes the entry")
        if self.skip_space():
            self.fail("nothing may follow the entry's closing '}'")
        return BibtexEntry(entry_type, key, fields)

    def value(self) -> str:
        pieces = [self.piece()]
        while self.skip_space() == "#":
            self.at += 1
            pieces.append(self.piece())
        return "".join(pieces)

    def piece(self) -> str:
        opener = self.skip_space()
        if opener == "{":
            return self.delimited("}")
        if opener == '"':
            return self.delimited('"')
        if NUMBER.match(self.text, self.at):
            return self.match(NUMBER, "a number")
        return self.match(NAME, 'a value: {text}, "text", a number or a macro name')

    def delimited(self, closer: str) -> str:
        """Text up to the `closer` that is outside every brace pair; the opening delimiter is at self.at."""
        start, depth = self.at, 0
        for position in range(start + 1, len(self.text)):
            char = self.text[position]
            if char == closer and depth == 0:
                self.at = position + 1
                return self.text[start + 1 : position]
            depth += {"{": 1, "}": -1}.get(char, 0)
            if depth < 0:
                self.at = position
                self.fail("this '}' closes a brace that was never opened")
        self.at = start
        self.fail(f"this {self.text[start]!r} is never closed")

    def skip_space(self) -> str:
        """Move past white space; the next character, or '' at the end."""
        while self.at < len(self.text) and self.text[self.at].isspace():
            self.at += 1
        return self.text[self.at : self.at + 1]

    def expect(self, char: str, what: str) -> None:
        if self.skip_space() != char:
            self.fail_expecting(what)
        self.at += 1

    def match(self, pattern: re.Pattern[str], what: str) -> str:
        self.skip_space()
        found = pattern.match(self.text, self.at)
        if found is None:
            self.fail_expecting(what)
        self.at = found.end()
        return found.group()

    def fail_expecting(self, what: str) -> NoReturn:
        self.fail(f"expected {what}" if self.at < len(self.text) else "the entry ends before its closing '}'")

    def fail(self, message: str) -> NoReturn:
        line = self.text.count("\n", 0, self.at) + 1
        column = self.at - (self.text.rfind("\n", 0, self.at) + 1) + 1
        shown = self.text[self.at : self.at + 12] or "the end"
        raise BibtexError(f"line {line}, column {column} (at {shown!r}): {message}")
