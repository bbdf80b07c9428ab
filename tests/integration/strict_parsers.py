"""Strict, independent parsers for what synthfeed writes: JSON lines, CSV (RFC 4180) and InfluxDB
line protocol. They share no code with synthfeed and accept only what the format's own
specification accepts, so a stream that passes them will pass any conforming consumer.

- JSON (RFC 8259): one object per line, no duplicate keys, no NaN/Infinity (nor numbers that
  overflow a double), no lone surrogates, no surrounding whitespace.
- CSV (RFC 4180 with LF records): Python's `csv` module with strict=True, cross-checked by a
  hand-written tokenizer that also refuses a double quote inside an unquoted field (which
  `csv` lets through). Quoted fields may span lines.
- InfluxDB line protocol (docs.influxdata.com, InfluxDB v2 "Line protocol" reference,
  "Special characters" / "Escaping rules"): measurement escapes comma and space; tag keys, tag
  values and field keys escape comma, equals sign and space; a backslash before any other
  character is literal, so none of these may end with a backslash; string field values are
  double-quoted and escape `"` and `\\` (and `\\n`, `\\r`, `\\t`); floats (decimal or scientific,
  finite), integers with an `i` suffix (signed 64-bit), unsigned with `u` (64-bit), booleans
  t/T/true/True/TRUE/f/F/false/False/FALSE; an optional timestamp, a signed integer within
  -9223372036854775806..9223372036854775806 ns. A line whose first non-blank character is `#`
  is a comment (a point written that way is lost), so it is refused as a data line. Naming
  restrictions (names beginning with `_`, keys named `time`, a tag key named `field`) are
  reported separately by `influx_naming_problems`.

Every parser raises `ParseError` with a short reason. `layout_file_name` spells a name as the
benchmark label layouts (--labels-format timeeval, nab) put it in a file name.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass, field

__all__ = [
    "ParseError",
    "TS_RE",
    "NUMBER_RE",
    "check_line_bytes",
    "parse_json_line",
    "strict_number",
    "parse_csv_record",
    "iter_csv_records",
    "InfluxPoint",
    "parse_influx_line",
    "influx_naming_problems",
]


class ParseError(ValueError):
    """A line or record that the format's specification refuses."""


# "2026-01-01T00:00:00.000Z": what synthfeed writes for every ts (millisecond resolution, UTC).
TS_RE = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z\Z")
# A plain decimal number as text (CSV cells, string-typed numbers): no nan, inf, hex, spaces.
NUMBER_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")


def check_line_bytes(raw: bytes) -> str:
    """A physical line (without its LF) as text: no NUL byte, valid UTF-8 (no surrogates)."""
    nul = raw.find(b"\x00")
    if nul >= 0:
        raise ParseError(f"NUL byte at offset {nul}")
    try:
        return raw.decode("utf-8", errors="strict")
    except UnicodeDecodeError as e:
        raise ParseError(f"invalid UTF-8 at offset {e.start}: {raw[e.start:e.start + 4]!r}") from None


def strict_number(text: str) -> float:
    """A CSV cell or string-typed number: decimal syntax only, finite as a double."""
    if not NUMBER_RE.match(text):
        raise ParseError(f"not a number: {text[:40]!r}")
    v = float(text)
    if not math.isfinite(v):
        raise ParseError(f"number out of double range: {text[:40]!r}")
    return v


# --- JSON ------------------------------------------------------------------------------------


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise ParseError(f"duplicate key {k!r}")
        out[k] = v
    return out


def _refuse_constant(name):
    raise ParseError(f"non-standard JSON constant {name}")


def _finite_float(text):
    v = float(text)
    if not math.isfinite(v):
        raise ParseError(f"number overflows a double: {text[:40]}")
    return v


def _check_strings(value):
    """Lone surrogates (\\ud800) are accepted by json.loads but are not Unicode text."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ParseError(f"string with a lone surrogate: {value[:40]!r}") from None
    elif isinstance(value, dict):
        for k, v in value.items():
            _check_strings(k)
            _check_strings(v)
    elif isinstance(value, list):
        for v in value:
            _check_strings(v)


def strict_json_object(text: str):
    """json.loads refusing duplicate keys and the non-standard NaN/Infinity constants."""
    return json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant)


def parse_json_line(text: str) -> dict:
    """One JSON object per line, nothing around it."""
    if text != text.strip(" \t\r\n"):
        raise ParseError("whitespace around the JSON object")
    try:
        value = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_refuse_constant,
                           parse_float=_finite_float)
    except ParseError:
        raise
    except (ValueError, RecursionError) as e:
        raise ParseError(f"invalid JSON: {e}") from None
    if not isinstance(value, dict):
        raise ParseError(f"a JSON {type(value).__name__}, not an object")
    _check_strings(value)
    return value


# --- CSV -------------------------------------------------------------------------------------


def _rfc4180_fields(record: str) -> list[str]:
    """RFC 4180 tokenizer: quoted fields double their quotes; an unquoted field holds no quote,
    CR or LF; a closing quote is followed by a comma or the end of the record."""
    fields: list[str] = []
    i, n = 0, len(record)
    while True:
        if i < n and record[i] == '"':
            i += 1
            buf = []
            while True:
                if i >= n:
                    raise ParseError("unterminated quoted field")
                c = record[i]
                if c == '"':
                    if i + 1 < n and record[i + 1] == '"':
                        buf.append('"')
                        i += 2
                        continue
                    i += 1
                    break
                buf.append(c)
                i += 1
            fields.append("".join(buf))
            if i == n:
                return fields
            if record[i] != ",":
                raise ParseError(f"{record[i]!r} after a closing quote (expected ',')")
            i += 1
        else:
            j = i
            while j < n and record[j] != ",":
                if record[j] in '"\r\n':
                    raise ParseError(f"{record[j]!r} inside an unquoted field")
                j += 1
            fields.append(record[i:j])
            if j == n:
                return fields
            i = j + 1


def parse_csv_record(record: str) -> list[str]:
    """One CSV record (may contain LFs inside quoted fields), by `csv` (strict) and by the
    RFC 4180 tokenizer above; both must agree."""
    try:
        rows = list(csv.reader(io.StringIO(record, newline=""), strict=True))
    except csv.Error as e:
        raise ParseError(f"csv: {e}") from None
    if len(rows) != 1:
        raise ParseError(f"csv: {len(rows)} records where one was expected")
    mine = _rfc4180_fields(record)
    if mine != rows[0]:
        raise ParseError(f"csv module and RFC 4180 disagree: {rows[0]!r} vs {mine!r}")
    return rows[0]


@dataclass
class CsvRecord:
    first_line: int                 # index of its first physical line
    line_count: int                 # physical lines it spans
    text: str
    fields: list[str] | None = None
    error: str | None = None


def iter_csv_records(lines: list[str], columns: int, max_span: int = 64):
    """Groups physical lines into records. A line with an odd number of quotes opens a quoted
    field that continues on the next lines; if joining lines never yields a record with
    `columns` fields, the first line alone is reported as a bad record and reading resumes on
    the next line (so a truncated line cannot swallow the good lines after it)."""
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.count('"') % 2 == 1:
            found = None
            quotes = line.count('"')
            for j in range(i + 1, min(len(lines), i + max_span)):
                quotes += lines[j].count('"')
                if quotes % 2 == 1:
                    continue
                # The first LF outside quotes ends the record: it is here or nowhere.
                joined = "\n".join(lines[i:j + 1])
                try:
                    fields = parse_csv_record(joined)
                except ParseError:
                    break
                if len(fields) == columns:
                    found = CsvRecord(i, j - i + 1, joined, fields)
                break
            if found:
                yield found
                i += found.line_count
            else:
                yield CsvRecord(i, 1, line, None, "unbalanced quotes (no record can be formed)")
                i += 1
            continue
        try:
            fields = parse_csv_record(line)
        except ParseError as e:
            yield CsvRecord(i, 1, line, None, str(e))
        else:
            if len(fields) != columns:
                yield CsvRecord(i, 1, line, None, f"{len(fields)} columns, the header has {columns}")
            else:
                yield CsvRecord(i, 1, line, fields)
        i += 1


# --- InfluxDB line protocol --------------------------------------------------------------------

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1
TIMESTAMP_MIN, TIMESTAMP_MAX = -9223372036854775806, 9223372036854775806
_FLOAT_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")
_INT_RE = re.compile(r"[+-]?\d+i\Z")
_UINT_RE = re.compile(r"\d+u\Z")
_BOOLS = {"t": True, "T": True, "true": True, "True": True, "TRUE": True,
          "f": False, "F": False, "false": False, "False": False, "FALSE": False}


@dataclass
class InfluxPoint:
    measurement: str
    tags: list[tuple[str, str]] = field(default_factory=list)
    fields: list[tuple[str, str, object]] = field(default_factory=list)  # (key, type, value)
    timestamp: int | None = None


def _scan_name(line: str, i: int, escapable: str, stops: str, what: str) -> tuple[str, int]:
    """Reads a measurement, tag key/value or field key from `i` up to an unescaped stop
    character. `\\x` for x in `escapable` is x; a backslash before anything else is literal."""
    out = []
    n = len(line)
    while i < n:
        c = line[i]
        if c == "\\" and i + 1 < n and line[i + 1] in escapable:
            out.append(line[i + 1])
            i += 2
            continue
        if c in stops:
            break
        if c in "\r\n":
            raise ParseError(f"raw {c!r} in {what}")
        out.append(c)
        i += 1
    name = "".join(out)
    if not name:
        raise ParseError(f"empty {what} at column {i}")
    return name, i


def _scan_string_value(line: str, i: int) -> tuple[str, int]:
    """A double-quoted string field value starting at `i` (the opening quote)."""
    assert line[i] == '"'
    i += 1
    out = []
    n = len(line)
    while i < n:
        c = line[i]
        if c == "\\" and i + 1 < n and line[i + 1] in '"\\':
            out.append(line[i + 1])
            i += 2
            continue
        if c == "\\" and i + 1 < n and line[i + 1] in "nrt":
            out.append({"n": "\n", "r": "\r", "t": "\t"}[line[i + 1]])
            i += 2
            continue
        if c == '"':
            return "".join(out), i + 1
        out.append(c)
        i += 1
    raise ParseError("unterminated string field value")


def _field_value(token: str) -> tuple[str, object]:
    if _INT_RE.match(token):
        v = int(token[:-1])
        if not INT64_MIN <= v <= INT64_MAX:
            raise ParseError(f"integer out of int64 range: {token[:40]}")
        return "int", v
    if _UINT_RE.match(token):
        v = int(token[:-1])
        if v > 2 ** 64 - 1:
            raise ParseError(f"unsigned integer out of range: {token[:40]}")
        return "uint", v
    if token in _BOOLS:
        return "bool", _BOOLS[token]
    if _FLOAT_RE.match(token):
        v = float(token)
        if not math.isfinite(v):
            raise ParseError(f"float out of double range: {token[:40]}")
        return "float", v
    raise ParseError(f"invalid field value {token[:40]!r}")


def parse_influx_line(line: str) -> InfluxPoint:
    if not line.strip():
        raise ParseError("blank line")
    if line.lstrip(" \t").startswith("#"):
        raise ParseError("line starts with '#': line protocol reads it as a comment")
    if line[0] in " \t":
        raise ParseError("leading whitespace")
    n = len(line)
    measurement, i = _scan_name(line, 0, ", ", ", ", "measurement")
    p = InfluxPoint(measurement)
    while i < n and line[i] == ",":
        key, i = _scan_name(line, i + 1, ",= ", ",= ", "tag key")
        if i >= n or line[i] != "=":
            raise ParseError(f"tag key {key!r} without '='")
        value, i = _scan_name(line, i + 1, ",= ", ", ", "tag value")
        if value.endswith("\\") or key.endswith("\\"):
            raise ParseError(f"tag {key!r}={value!r} ends with a backslash")
        p.tags.append((key, value))
    if measurement.endswith("\\"):
        raise ParseError(f"measurement {measurement!r} ends with a backslash")
    if i >= n or line[i] != " ":
        raise ParseError(f"expected a space before the field set at column {i}")
    i += 1
    while True:
        key, i = _scan_name(line, i, ",= ", ",= ", "field key")
        if key.endswith("\\"):
            raise ParseError(f"field key {key!r} ends with a backslash")
        if i >= n or line[i] != "=":
            raise ParseError(f"field key {key!r} without '='")
        i += 1
        if i < n and line[i] == '"':
            value, i = _scan_string_value(line, i)
            p.fields.append((key, "string", value))
        else:
            j = i
            while j < n and line[j] not in ", ":
                j += 1
            kind, value = _field_value(line[i:j])
            p.fields.append((key, kind, value))
            i = j
        if i < n and line[i] == ",":
            i += 1
            continue
        break
    keys = [k for k, _, _ in p.fields]
    if len(set(keys)) != len(keys):
        raise ParseError(f"duplicate field key in {keys}")
    tag_keys = [k for k, _ in p.tags]
    if len(set(tag_keys)) != len(tag_keys):
        raise ParseError(f"duplicate tag key in {tag_keys}")
    if i == n:
        return p
    if line[i] != " ":
        raise ParseError(f"unexpected {line[i]!r} at column {i}")
    ts = line[i + 1:]
    if not re.fullmatch(r"-?\d+", ts):
        raise ParseError(f"invalid timestamp {ts[:40]!r}")
    v = int(ts)
    if not TIMESTAMP_MIN <= v <= TIMESTAMP_MAX:
        raise ParseError(f"timestamp {ts} out of the signed 64-bit nanosecond range")
    p.timestamp = v
    return p


def influx_naming_problems(p: InfluxPoint) -> list[str]:
    """InfluxDB's naming restrictions (a server refuses such points even though they parse)."""
    out = []
    if p.measurement.startswith("_"):
        out.append(f"measurement {p.measurement!r} begins with '_'")
    for k, _ in p.tags:
        if k.startswith("_") or k in ("time", "field"):
            out.append(f"tag key {k!r} is reserved")
    for k, _, _ in p.fields:
        if k.startswith("_") or k == "time":
            out.append(f"field key {k!r} is reserved")
    return out


def layout_file_name(name: str) -> str:
    """A device id, group or field name as a part of a layout's file name (README, Benchmark
    layouts): characters other than ASCII letters, digits, `-`, `_` and a `.` not in front as
    %XX of their UTF-8 bytes; past 120 characters, the first 100 (an escape kept whole), `~`
    and the FNV-1a 64-bit hash of the name in upper-case hex."""
    out = "".join(ch if ch.isascii() and (ch.isalnum() or ch in "-_" or (ch == "." and i))
                  else "".join(f"%{b:02X}" for b in ch.encode()) for i, ch in enumerate(name))
    if len(out) <= 120:
        return out
    cut = 99 if out[99] == "%" else 98 if out[98] == "%" else 100
    h = 0xCBF29CE484222325
    for b in name.encode():
        h = ((h ^ b) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{out[:cut]}~{h:016X}"
