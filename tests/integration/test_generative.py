"""Generative test: many random profiles, each within what the profile loader accepts, run through
the real binary into files, and every line read back by independent strict parsers
(strict_parsers.py).

Each profile comes from `random.Random(seed)`: hostile text wherever a profile holds free text
(group names, state names, transaction categories, merchant codes and templates, currency,
profile name and description: quotes, backslashes, commas, spaces, `=`, escaped `\n`/`\t`,
unicode (U+2028, NEL, BOM, soft hyphen, emoji, combining marks), `${X}`/`$${`, very long
strings, a leading `#` or `_`, a trailing backslash), field names such as `time` or `_x`, ids
from templates using every character the id alphabet allows (`+ # / :` included: the sink is a
file), extreme magnitudes (1e30, -1e300, 1e-300, 5e-324, the largest doubles and int64s),
every precision, integer fields, exponential drift with a short tau, long `--duration`s on
short intervals, start times from 1970 to 2262, fault probabilities of 1 and 1e-300, absurd
fraud and anomaly rates; and every kind the loader knows: signals, noise, drift, value
anomalies, transport faults, fraud typologies, concept drift, event arrivals, gateways,
drivers, load shapes, in all payload and label formats, with and without --label-in-payload
and --pad-to, shards, thread counts, --seed/--start overrides. A few profiles (refusal probes) hold what the
loader refuses: control characters (TOML carries tabs, newlines and \u0000 escaped), a group
name with a backslash or a leading `#`, an out-of-range start or --seed, an id template that
pads with spaces.

What a run must satisfy:
- exit 0, or exit 2 (refused at load) with the profile's path on stderr (or, for a probe's
  out-of-range flag, that flag); anything else fails, and so does a signal, a run longer than
  RUN_TIMEOUT (a few thousand messages take well under a second) or one that needs more than
  ADDRESS_SPACE (bad_alloc);
- every data line has no NUL byte and is valid UTF-8, and parses: JSON (an object, no
  duplicate keys, no NaN/Infinity; a numeric field is a number, null, or a numeric string when
  schema drift retypes it), CSV (the header first, exactly its column count per record, numeric
  cells numbers or empty, cells of another group's fields empty), InfluxDB line protocol (the
  measurement is the group name, the only tag is device_id, integer fields carry `i`, text
  values round-trip, a non-finite numeric field is left out, timestamp within int64, and no
  name InfluxDB reserves: `_` prefixes, a field or tag key `time`);
- with --pad-to BYTES, a line is at least BYTES long, exactly BYTES when it carries letters
  in its last member (`pad`, or `pad_2`, ... when a field has that name), and every CSV row
  has the `pad` cell;
- a `type = "int"` field is an integer ("printed without decimals"): a JSON integer, a CSV
  cell of digits (or null/empty when it has no finite value);
- text values (state names, categories, merchant ids, currency) read back exactly as written
  in the profile;
- a data line may fail all this only when the labels say its (device_id, seq) was `malformed`
  (counted twice when also `duplicate`); when the line is too short to say whose it is, the
  count of such lines must stay within the count of malformed ticks;
- labels hold one line per tick of every device: a device's seqs run from 0 with no gap;
- labels and episodes files are strict JSON lines (or the CSV labels layout), every episode a
  label line names is in the episodes file and every episode line is named by some label line
  (README: "one line per episode that affected at least one tick"), each message joins a label
  line on (device_id, seq) that says emitted; --label-in-payload agrees with the labels;
- the summary JSON parses and `generated = delivered + failed + dropped`;
- for some seeds, a second run with `--labels-format timeeval` or `nab`: the layout's rows
  are, per device in seq order, the ticks the labels say were emitted.

Environment:
  SYNTHFEED_GENERATIVE_PROFILES=N   how many seeds (default 250, about a minute on 2 cores)
  SYNTHFEED_GENERATIVE_FIRST_SEED=S first seed (default 0)
  SYNTHFEED_GENERATIVE_SEEDS=a,b,c  exactly these seeds (reproduce a failure)
  SYNTHFEED_GENERATIVE_JOBS=J       profiles run at once (default 2)
  SYNTHFEED_GENERATIVE_REPORT=PATH  write every problem of every seed, by kind, as JSON
  SYNTHFEED_GENERATIVE_KEEP=DIR     keep each seed's profile and outputs under DIR
A failure prints the seed, the command line and the profile text.
"""

from __future__ import annotations

import concurrent.futures
import csv
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from strict_parsers import (TS_RE, ParseError, check_line_bytes,  # noqa: E402
                            influx_naming_problems, iter_csv_records, layout_file_name,
                            parse_csv_record, parse_influx_line, parse_json_line,
                            strict_json_object, strict_number)

REPO = Path(__file__).resolve().parents[2]
BINARY = REPO / "build" / "release" / "synthfeed"
CONFIG = REPO / "src" / "config"

PROFILES = int(os.environ.get("SYNTHFEED_GENERATIVE_PROFILES", "250"))
FIRST_SEED = int(os.environ.get("SYNTHFEED_GENERATIVE_FIRST_SEED", "0"))
JOBS = int(os.environ.get("SYNTHFEED_GENERATIVE_JOBS", "2"))
if os.environ.get("SYNTHFEED_GENERATIVE_SEEDS"):
    SEEDS = [int(s) for s in os.environ["SYNTHFEED_GENERATIVE_SEEDS"].split(",") if s.strip()]
else:
    SEEDS = list(range(FIRST_SEED, FIRST_SEED + PROFILES))
RUN_TIMEOUT = 20  # a run here takes well under a second
# Runs get this much address space (prlimit), so a profile that makes the binary allocate
# without bound fails fast (bad_alloc) instead of taking the machine's memory.
ADDRESS_SPACE = 4 * 1024 ** 3
PRLIMIT = shutil.which("prlimit")
MAX_PROBLEMS_SHOWN = 12

# ------------------------------------------------------------------------------------------------
# What the loader accepts: the kinds of every vocabulary, as `synthfeed list` prints them from
# the tables the loader reads (src/config/kinds.hpp), and every literal `choice("key", {...})`
# of src/config's section readers, by function.
# ------------------------------------------------------------------------------------------------

# `synthfeed list` section → (reader, key) the generator records its use under.
LIST_SECTIONS = {
    "signals (signal.kind)": ("read_signal", "kind"),
    "noise (noise.kind)": ("read_noise", "kind"),
    "drift (drift.kind)": ("read_drift", "kind"),
    "[[group.anomaly]] kinds": ("read_anomaly", "kind"),
    "[[group.fault]] kinds": ("read_fault", "kind"),
    "[[group.fraud]] kinds": ("read_fraud", "kind"),
    "load shapes ([load] shape)": ("read_load", "shape"),
    "payload formats (--format)": ("run", "--format"),
    "label formats (--labels-format)": ("run", "--labels-format"),
}


def list_sections() -> dict[str, list[str]]:
    """{section title: [names]} of `synthfeed list`: a title line ends with ':', each kind is
    a line of its own indented by two spaces (its keys follow, indented further)."""
    out = subprocess.run([str(BINARY), "list"], capture_output=True, text=True, timeout=30,
                         env=clean_env()).stdout
    sections: dict[str, list[str]] = {}
    current = None
    for line in out.splitlines():
        if line and not line.startswith(" ") and line.endswith(":"):
            current = line[:-1]
            sections[current] = []
        elif current is not None and (m := re.match(r"  (\S+)", line)):
            sections[current].append(m.group(1))
    return sections


def loader_choices() -> dict[tuple[str, str], list[str]]:
    """{(function, key): [values]}: every kind `synthfeed list` names and every r.choice(...)
    with literal values in src/config, so a kind added without the generator covering it fails
    test_generator_covers_every_loader_choice."""
    out: dict[tuple[str, str], list[str]] = {}
    sections = list_sections()
    for title, key in LIST_SECTIONS.items():
        if key[0] == "run":
            continue
        assert title in sections, f"`synthfeed list` has no section {title!r}: {list(sections)}"
        out[key] = list(sections[title])
    for source in sorted(CONFIG.glob("*.cpp")):
        text = source.read_text()
        functions = [(m.start(), m.group(1)) for m in
                     re.finditer(r"^[A-Za-z][\w:<>,\s\*&]*?\b(\w+)\([^;{]*\)\s*(?:const\s*)?\{",
                                 text, re.M)]
        for m in re.finditer(r"\bchoice\(\s*\"(\w+)\"\s*,\s*\{([^}]*)\}", text, re.S):
            owner = [name for pos, name in functions if pos < m.start()]
            key = (owner[-1] if owner else "?", m.group(1))
            values = re.findall(r"\"(\w+)\"", m.group(2))
            out.setdefault(key, [])
            out[key] += [v for v in values if v not in out[key]]
    return out


def binary_formats() -> list[str]:
    """Payload formats as `synthfeed list` prints them."""
    formats = list_sections().get("payload formats (--format)")
    assert formats, "`synthfeed list` names no payload formats"
    return formats


LAYOUTS = ["timeeval", "nab"]  # label formats written by a second run (check_layout)


def label_formats() -> list[str]:
    formats = list_sections().get("label formats (--labels-format)")
    assert formats, "`synthfeed list` names no label formats"
    return formats


def clean_env() -> dict:
    """Every flag has a SYNTHFEED_<FLAG> twin: none may leak in from the caller."""
    return {k: v for k, v in os.environ.items() if not k.startswith("SYNTHFEED_")}


# ------------------------------------------------------------------------------------------------
# TOML writing
# ------------------------------------------------------------------------------------------------

INT64_MIN, INT64_MAX = -(2 ** 63), 2 ** 63 - 1


def toml_string(s: str, r: random.Random) -> str:
    if ("'" not in s and all(c == "\t" or (ord(c) >= 0x20 and ord(c) != 0x7F) for c in s)
            and r.random() < 0.25):
        return "'" + s + "'"  # a literal string: no escapes at all
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif ch == "\t":
            out.append("\t" if r.random() < 0.5 else "\\t")
        elif o < 0x20 or o == 0x7F:
            out.append(f"\\u{o:04X}")
        elif o > 0x7F and r.random() < 0.2:
            out.append(f"\\u{o:04X}" if o <= 0xFFFF else f"\\U{o:08X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


class Raw(str):
    """A value written into TOML as is."""


def toml_value(v, r: random.Random) -> str:
    if isinstance(v, Raw):
        return str(v)
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        if INT64_MIN <= v <= INT64_MAX:
            return str(v)
        return repr(float(v))
    if isinstance(v, float):
        s = repr(v)
        assert s not in ("inf", "-inf", "nan")
        return s
    if isinstance(v, str):
        return toml_string(v, r)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(toml_value(x, r) for x in v) + "]"
    if isinstance(v, dict):
        return "{ " + ", ".join(f"{toml_key(k, r)} = {toml_value(x, r)}" for k, x in v.items()) + " }"
    raise TypeError(type(v))


def toml_key(k: str, r: random.Random) -> str:
    return k if re.fullmatch(r"[A-Za-z0-9_-]+", k) else toml_string(k, r)


class TomlWriter:
    def __init__(self, r: random.Random):
        self.r = r
        self.lines: list[str] = []

    def kv(self, key, value, indent=""):
        self.lines.append(f"{indent}{toml_key(key, self.r)} = {toml_value(value, self.r)}")

    def header(self, name, array=False, indent=""):
        self.lines.append("")
        self.lines.append(f"{indent}[[{name}]]" if array else f"{indent}[{name}]")

    def text(self) -> str:
        # ${ starts an environment reference; $${ is a literal ${ (README, Top level).
        return "\n".join(self.lines).replace("${", "$${") + "\n"


# ------------------------------------------------------------------------------------------------
# The profile generator
# ------------------------------------------------------------------------------------------------

HOSTILE_PIECES = [
    " ", ",", "=", '"', "\\", "'", "+", "#", "/", ":", ";", "|", "{", "}", "[", "]", "(", ")", "<",
    ">", "&", "%", "$", "*", "?", "!", "@", "`", "~", ".", "-", "_", "é", "ß", "Ω", "日本", "😀",
    "\u200b", "\u00a0", "\u2028", "e\u0301", "null", "NaN", "true", "inf", "-1", "0x1F", "a", "Z",
    "9", "abc", "state", "\\n", "\\t", '\\"', '""', ",,", "  ", "${X}", "$${", "{index}", "{}",
    "%d", "\ufeff", "\u0085", "\u00ad",
]
# TOML carries these (escaped), the loader refuses them: only in refusal probes.
CONTROL_PIECES = ["\t", "\n", "\r", "\x00", "\x01", "\x1b", "\x1f", "\x7f", "\x08", "\x0c"]
SAFE_ID_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:/@+#"
FIELD_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-"
RESERVED_FIELDS = {"device_id", "seq", "ts", "label", "episode", "group", "time"}
EXTREMES = [0, 0.0, -0.0, 1, -1, 0.5, 1e-300, -1e-300, 5e-324, 1e30, -1e30, 1e300, -1e300,
            1.7976931348623157e308, -1.7976931348623157e308, 9007199254740993, 2 ** 53,
            INT64_MAX, INT64_MIN, 1e15, -1e16, 123456789.98765432, 0.1, 1e-9, 99999999999.5]
# Start times the loader takes (1970 to the last instant line protocol can write, 2262-04-11).
STARTS = ["1970-01-01T00:00:00Z", "1970-01-01T00:00:00.001+00:00", "2262-04-11T23:47:16.853Z",
          "2262-04-11T23:00:00Z", "2026-02-31T00:00:00+05:30", "2026-06-30T23:59:60-12:00",
          "2026-01-01 00:00:00.123456789z", "2026-01-01", "2024-02-29T23:59:59.999Z",
          "2000-01-01T00:00:00-00:00"]
# ... and ones it refuses (refusal probes).
BAD_STARTS = ["1969-12-31T23:59:59.999Z", "1900-01-01T00:00:00Z", "0000-01-01T00:00:00Z",
              "2300-01-01T00:00:00Z", "9999-12-31T23:59:59Z", "1970-01-01T00:00:00+00:01"]
INTERVALS_MS = [1, 2, 3, 7, 10, 50, 100, 250, 1000, 1500, 30_000, 60_000, 3_600_000,
                86_400_000, 604_800_000]
DEFAULT_CATEGORIES = [("grocery", "5411"), ("restaurants", "5812"), ("fuel", "5541"),
                      ("online_retail", "5999"), ("electronics", "5732"), ("travel", "4722"),
                      ("pharmacy", "5912")]


@dataclass
class FieldInfo:
    name: str
    numeric: bool = True
    integer: bool = False
    texts: set | None = None         # allowed text values (states, transaction tables)
    hex_prefix: str | None = None    # "fp-" + 8 hex digits
    texts_order: list = field(default_factory=list)  # state names in order (derived tables)


@dataclass
class GroupInfo:
    name: str
    model: str
    count: int
    id_template: str
    ids: list[str] = field(default_factory=list)
    fields: list[FieldInfo] = field(default_factory=list)
    nominal_per_ms: float = 0.0      # messages per ms, all devices

    def field(self, name):
        for f in self.fields:
            if f.name == name:
                return f
        return None


@dataclass
class Case:
    seed: int
    profile: str
    name: str
    groups: list[GroupInfo]
    has_faults: bool
    fmt: str
    labels_fmt: str
    label_in_payload: bool
    args: list[str]
    used: set = field(default_factory=set)
    hostile_flags: set = field(default_factory=set)  # flags set out of range on purpose
    probe: bool = False
    pad_to: int = 0  # --pad-to: payloads at least this long, through a last `pad` member
    layout: str = ""  # a second run writes this --labels-format layout (timeeval, nab)

    def pad_key(self) -> str:
        """The padding's key: "pad", or "pad_2", ... when a field of any group is so named."""
        names = {f.name for g in self.groups for f in g.fields}
        key, n = "pad", 2
        while key in names:
            key, n = f"pad_{n}", n + 1
        return key


class Generator:
    def __init__(self, seed: int):
        self.seed = seed
        self.r = random.Random(seed)
        self.used: set[tuple[str, str, str]] = set()
        r = self.r
        # Per profile moods, so that some profiles isolate one kind of trouble.
        self.hostile = r.random() < 0.6
        self.extreme = r.random() < 0.35
        self.faulty = r.random() < 0.5
        # Refusal probes: a few profiles hold what the loader refuses (control characters, a
        # group name with a backslash or a leading '#', an out-of-range start): exit 2 naming
        # the file is the only acceptable outcome for them.
        self.probe = r.random() < 0.06
        self.hostile_flags: set[str] = set()

    def use(self, func, key, value):
        self.used.add((func, key, value))

    # --- values -----------------------------------------------------------------------------

    def text(self, allow_empty=False) -> str:
        r = self.r
        if not self.hostile and r.random() < 0.8:
            s = "".join(r.choice("abcdefghijklmnopqrstuvwxyz_") for _ in range(r.randint(1, 10)))
            return s
        roll = r.random()
        if roll < 0.03:
            return "".join(r.choice(HOSTILE_PIECES) for _ in range(r.randint(300, 700)))  # long
        if roll < 0.06:
            return "#" + self.text()          # a comment in line protocol
        if roll < 0.09:
            return "_" + self.text()          # InfluxDB's reserved namespace
        if roll < 0.13:
            return self.text() + "\\"         # trailing backslash
        if allow_empty and roll < 0.15:
            return ""
        pieces = [r.choice(HOSTILE_PIECES) for _ in range(r.randint(1, 6))]
        if self.probe and r.random() < 0.3:
            pieces.insert(r.randrange(len(pieces) + 1), r.choice(CONTROL_PIECES))
        return "".join(pieces)

    def name_text(self) -> str:
        """A group name or an id template body: hostile, but with no backslash and no leading
        '#' or '_' (the loader refuses those: line protocol cannot carry them, InfluxDB reserves
        '_'), except in probes."""
        s = self.text()
        if self.probe and self.r.random() < 0.3:
            return s
        s = s.replace("\\", "/")
        while s.startswith(("#", "_")):
            s = s[1:]
        return s

    def number(self, lo=-1000.0, hi=1000.0):
        r = self.r
        if self.extreme and r.random() < 0.5:
            return r.choice(EXTREMES)
        v = r.uniform(lo, hi)
        roll = r.random()
        if roll < 0.2:
            return int(v)
        return round(v, r.randint(0, 9))

    def nonneg(self, hi=100.0):
        v = self.number(0, hi)
        v = abs(v)
        return v

    def positive(self, hi=100.0):
        v = self.nonneg(hi)
        return v if v > 0 else 1

    def spread(self, make):
        if self.r.random() < 0.3:
            a, b = make(), make()
            return [min(a, b), max(a, b)]
        return make()

    def duration(self, ms: int) -> str:
        """A duration string for `ms` milliseconds, in one of the spellings the README lists."""
        r = self.r
        if ms == 0:
            return r.choice(["0s", "0", "0ms"])
        choices = [f"{ms}ms"]
        for unit, size in (("s", 1000), ("m", 60_000), ("h", 3_600_000), ("d", 86_400_000),
                           ("w", 604_800_000)):
            if ms % size == 0:
                choices.append(f"{ms // size}{unit}")
            elif (ms * 2) % size == 0:
                choices.append(f"{ms / size:g}{unit}")
        if ms > 3_600_000 and ms % 60_000 == 0:
            h, rest = divmod(ms, 3_600_000)
            choices.append(f"{h}h{rest // 60_000}m")
        return r.choice(choices)

    def duration_range(self, lo: int, hi: int) -> str:
        a, b = sorted((self.r.randint(lo, hi), self.r.randint(lo, hi)))
        if a == b and self.r.random() < 0.5:
            return self.duration(a)
        return f"{self.duration(a)}..{self.duration(b)}"

    def rate(self, per_ms: float) -> str:
        """'N/unit' near `per_ms` events per millisecond."""
        r = self.r
        unit, size = r.choice([("ms", 1), ("s", 1000), ("m", 60_000), ("min", 60_000),
                               ("h", 3_600_000), ("d", 86_400_000), ("day", 86_400_000),
                               ("w", 604_800_000), ("week", 604_800_000), ("y", 31_536_000_000),
                               ("year", 31_556_952_000), ("30m", 1_800_000), ("250ms", 250)])
        n = per_ms * size
        n = float(f"{n:.3g}") if n > 0 else 1
        if n <= 0:
            n = 1
        return f"{n:g}/{unit}"

    # --- names ------------------------------------------------------------------------------

    def field_name(self, taken: set) -> str:
        r = self.r
        for _ in range(100):
            roll = r.random()
            if roll < 0.05 and self.probe:  # InfluxDB refuses these: so does the loader
                name = "time"
            elif roll < 0.1 and self.probe:
                name = "_" + "".join(r.choice(FIELD_CHARS) for _ in range(r.randint(0, 4)))
            elif roll < 0.15:
                name = r.choice(["-", ".", "x.y", "a-b", "9", "value", "label_", "seq2", "ts_"])
            else:
                name = "".join(r.choice(FIELD_CHARS) for _ in range(r.randint(1, 12)))
            if name not in taken and (name not in RESERVED_FIELDS or self.probe) and (
                    self.probe or not name.startswith("_")):
                return name
        return f"f{len(taken)}"

    def id_template(self, gi: int, group_name: str, count: int) -> str:
        r = self.r
        prefix = "".join(r.choice(SAFE_ID_CHARS) for _ in range(r.randint(0, 6)))
        sep = r.choice("-_.:/@+#")
        # ":3" pads with spaces, which no id may hold: refused, wherever it is caught
        spec = r.choice(["", "", ":05", ":x", ":X", ":08x", ":o", ":b", ":d", ":03", ":1",
                         ":09d", ":3" if r.random() < 0.1 else ":07"])
        safe_group = all(c in SAFE_ID_CHARS for c in group_name)
        uses_group = safe_group and r.random() < 0.3
        token = "{group}" if uses_group else f"G{gi}"
        index = "{index" + spec + "}" if (count > 1 or r.random() < 0.7) else ""
        suffix = "".join(r.choice(SAFE_ID_CHARS) for _ in range(r.randint(0, 3)))
        return f"{prefix}{token}{sep}{index}{suffix}"

    # --- signals ------------------------------------------------------------------------------

    def signal(self, kind: str, earlier: list[FieldInfo], interval_ms: int) -> tuple[dict, bool]:
        """(signal table, allows noise/drift/min/max) for a numeric field of `kind`."""
        r = self.r
        n = self.number
        s: dict = {"kind": kind}
        period = lambda: self.duration(r.choice([interval_ms * r.randint(2, 50), 60_000,  # noqa: E731
                                                  86_400_000, 1, 7]))
        if kind == "constant":
            if r.random() < 0.9:
                s["value"] = self.spread(n)
        elif kind == "seasonal":
            s["mean"] = self.spread(n)
            if r.random() < 0.5:
                s["components"] = [
                    {k: v for k, v in (("amplitude", self.spread(n)), ("period", period()),
                                       ("peak", self.duration(r.randint(0, 10_000))))
                     if r.random() < 0.8}
                    for _ in range(r.randint(1, 3))]
            else:
                if r.random() < 0.8:
                    s["amplitude"] = self.spread(n)
                if r.random() < 0.8:
                    s["period"] = period()
                if r.random() < 0.5:
                    s["peak"] = self.duration(r.randint(0, 86_400_000))
        elif kind in ("sine", "square", "sawtooth"):
            s["mean"] = self.spread(n)
            s["amplitude"] = self.spread(n)
            s["period"] = period()
            if r.random() < 0.5:
                s["phase"] = self.duration(r.randint(0, 100_000))
            if kind == "square" and r.random() < 0.8:
                s["duty"] = r.choice([0.5, 0.3, 1e-9, 0.999999999, r.random() * 0.98 + 0.01])
        elif kind == "random_walk":
            start = self.number()
            s["start"] = start
            s["step"] = self.spread(self.nonneg)
            if r.random() < 0.5:
                lo = start - abs(self.number()) - 1 if r.random() < 0.8 else start
                hi = start + abs(self.number()) + 1
                if lo < start < hi or (lo <= start <= hi and lo < hi):
                    s["min"], s["max"] = lo, hi
        elif kind == "ou":
            s["mean"] = self.spread(n)
            s["sigma"] = self.spread(self.nonneg)
            s["reversion"] = r.choice([1, 1.0, 0.1, 1e-300, 0.5, r.random() * 0.99 + 0.01])
        elif kind == "schedule":
            period_ms = r.choice([86_400_000, 604_800_000, 60_000, 20_000, interval_ms * 10 + 1])
            if r.random() < 0.7 or period_ms != 86_400_000:
                s["period"] = self.duration(period_ms)
            if r.random() < 0.7:
                s["interpolate"] = r.choice(["step", "linear"])
                self.use("read_schedule_points", "interpolate", s["interpolate"])
            else:
                self.use("read_schedule_points", "interpolate", "step")
            offsets = sorted(set(r.randrange(period_ms) for _ in range(r.randint(1, 5))))
            points = []
            for off in offsets:
                if off % 60_000 == 0 and off < 86_400_000 and r.random() < 0.6:
                    t = f"{off // 3_600_000:02d}:{off // 60_000 % 60:02d}"
                elif off % 1000 == 0 and off < 86_400_000 and r.random() < 0.3:
                    t = f"{off // 3_600_000:02d}:{off // 60_000 % 60:02d}:{off // 1000 % 60:02d}"
                else:
                    t = self.duration(off)
                points.append([t, self.number()])
            s["points"] = points
        elif kind == "counter":
            s["start"] = self.spread(n)
            s["rate"] = self.spread(self.nonneg)
            if r.random() < 0.5:
                s["rate_noise"] = self.nonneg(2)
        elif kind == "sum":
            # Parts of the summable kinds; at most one walk or ou, so a random-walk drift still
            # finds a state slot. An ou part or the sum itself may map through a marginal.
            parts, sequential = [], 0
            for _ in range(r.randint(1, 3)):
                k = r.choice(["constant", "seasonal", "sine", "square", "sawtooth", "schedule",
                              "ou", "random_walk"])
                if k in ("ou", "random_walk"):
                    k = "constant" if sequential else k
                    sequential += 1
                part = self.signal(k, earlier, interval_ms)
                if k == "ou" and r.random() < 0.4:
                    del part["mean"], part["sigma"]
                    part["marginal"] = {"quantiles": sorted(
                        round(r.uniform(-1000, 1000), 3) for _ in range(r.randint(2, 6)))}
                parts.append(part)
            s["components"] = parts
            if r.random() < 0.2:
                s["marginal"] = {"quantiles": sorted(round(r.uniform(-1000, 1000), 3)
                                                     for _ in range(5)),
                                 "probabilities": [0, 0.1, 0.5, 0.9, 1]}
        elif kind == "derived":
            src = r.choice(earlier)
            s["from"] = src.name
            if not src.numeric:
                s["table"] = [self.number() for _ in src.texts_order]
            else:
                if r.random() < 0.8:
                    s["scale"] = self.number()
                if r.random() < 0.6:
                    s["offset"] = self.number()
        else:
            raise AssertionError(kind)
        return s

    def states_signal(self) -> tuple[dict, list[str]]:
        r = self.r
        names = [self.text() or "s" for _ in range(r.randint(2, 4))]
        names = [nm if nm else "x" for nm in names]
        dwell = [self.duration_range(1, r.choice([5, 100, 5000, 600_000])) for _ in names]
        nxt = []
        for i in range(len(names)):
            row = [r.choice([0, 0, 1, 0.5, 3, 1e-300, 1e300]) for _ in names]
            if sum(row) <= 0 or all(w == 0 for j, w in enumerate(row) if j != i) and r.random() < 0.9:
                row[(i + 1) % len(names)] = 1
            nxt.append(row)
        return {"kind": "states", "states": names, "dwell": dwell, "next": nxt}, names

    def noise(self) -> dict:
        r = self.r
        kind = r.choice(["none", "gaussian", "uniform", "laplace", "student_t"])
        self.use("read_noise", "kind", kind)
        t = {"kind": kind}
        key = {"gaussian": "stddev", "uniform": "amplitude", "laplace": "scale",
               "student_t": "scale"}.get(kind)
        if key and r.random() < 0.9:
            t[key] = self.spread(self.nonneg)
        if kind == "student_t" and r.random() < 0.7:
            t["df"] = r.choice([0.1, 1, 3, 30, 1e-300, 1e300])
        return t

    def drift(self, interval_ms) -> dict:
        r = self.r
        kind = r.choice(["none", "linear", "exponential", "random_walk"])
        self.use("read_drift", "kind", kind)
        t = {"kind": kind}
        if kind == "linear" and r.random() < 0.9:
            t["per_day"] = self.spread(self.number)
        elif kind == "exponential":
            if r.random() < 0.9:
                t["scale"] = self.spread(self.number)
            if r.random() < 0.9:
                # a short tau overflows e^(t/tau) within the run
                t["tau"] = self.duration(r.choice([1, 7, interval_ms, 1000, 3_600_000]))
        elif kind == "random_walk" and r.random() < 0.9:
            t["step"] = self.spread(self.nonneg)
        return t

    # --- scheduling -----------------------------------------------------------------------

    def schedule(self, t: dict, kind: str, g: GroupInfo, span_ms: int, start_iso: str | None,
                 zero_ok: bool, needs_duration=True):
        """rate or windows, and a duration, for an anomaly, a lasting fault or a fraud."""
        r = self.r
        if r.random() < 0.7:
            t["rate"] = self.rate(r.uniform(1, 6) / max(span_ms, 1))
            lo = 0 if zero_ok and r.random() < 0.5 else 1
            if needs_duration or r.random() < 0.8:
                if zero_ok and lo == 0 and r.random() < 0.3:
                    t["duration"] = "0s"
                else:
                    t["duration"] = self.duration_range(1, max(2, span_ms // r.choice([2, 5, 20])))
        else:
            # all times or all offsets, and never overlapping (the loader refuses both)
            windows = []
            absolute = start_iso is not None and r.random() < 0.3
            cuts = sorted(set(r.randrange(max(span_ms, 2)) for _ in range(2 * r.randint(1, 3))))
            if len(cuts) % 2:
                cuts = cuts[:-1]
            if not cuts:
                cuts = [0, max(1, span_ms)]
            for a, b in zip(cuts[::2], cuts[1::2]):
                w = {}
                if absolute:
                    w["start"] = iso_plus(start_iso, a)
                    w["end"] = iso_plus(start_iso, b)
                else:
                    w["start"], w["end"] = self.duration(a), self.duration(b)
                if r.random() < 0.4 and g.ids:
                    w["devices"] = r.sample(g.ids, min(len(g.ids), r.randint(1, 3)))
                windows.append(w)
            t["windows"] = windows
            if r.random() < 0.5:
                t["duration"] = self.duration_range(0 if zero_ok else 1, max(2, span_ms // 10))

    def anomaly(self, kind, g: GroupInfo, span_ms, start_iso) -> dict:
        r = self.r
        t = {"kind": kind}
        numeric = [f for f in g.fields if f.numeric]
        states = [f for f in g.fields if not f.numeric]
        if kind != "dropout":
            pool = numeric + (states if kind == "stuck_at" else [])
            t["field"] = r.choice(pool).name
        if kind in ("variance", "frequency"):
            if r.random() < 0.8:
                t["magnitude"] = self.spread(self.positive)
        elif r.random() < 0.8:
            t["magnitude"] = self.spread(self.number)
        if r.random() < 0.7:
            t["direction"] = r.choice(["up", "down", "both"])
            self.use("read_direction", "direction", t["direction"])
        else:
            self.use("read_direction", "direction", "up")
        self.schedule(t, kind, g, span_ms, start_iso, zero_ok=kind == "spike",
                      needs_duration=kind != "spike")
        return t

    def fault(self, kind, g: GroupInfo, span_ms, start_iso, interval_ms) -> dict:
        r = self.r
        t = {"kind": kind}
        prob = lambda: r.choice([1, 1.0, 0.5, 0.1, 0.01, 1e-300, r.random() * 0.3 + 1e-6])  # noqa: E731
        if kind == "duplicate":
            t["probability"] = prob()
            if r.random() < 0.6:
                t["delay"] = self.duration_range(0, r.choice([10, 1000, interval_ms * 3, 600_000]))
        elif kind == "out_of_order":
            t["probability"] = prob()
            if r.random() < 0.5:
                t["delay"] = self.duration_range(1, r.choice([10, interval_ms * 3, 600_000]))
        elif kind == "late":
            t["probability"] = prob()
            t["delay"] = self.duration_range(1, r.choice([1000, 1_800_000, 86_400_000 * 3]))
        elif kind in ("dropped", "malformed"):
            t["probability"] = prob()
        elif kind == "clock_skew":
            t["skew"] = self.duration_range(0, r.choice([1, 1000, 600_000, 86_400_000 * 365 * 80]))
            if r.random() < 0.7:
                t["direction"] = r.choice(["up", "down", "both"])
                self.use("read_direction", "direction", t["direction"])
            self.schedule(t, kind, g, span_ms, start_iso, zero_ok=False)
        elif kind == "schema_drift":
            clash = [f for f in g.fields if g.field(f.name + "_v2") is not None]
            t["field"] = (r.choice(clash) if clash and r.random() < 0.7 else r.choice(g.fields)).name
            change = r.choice(["rename", "type"]) if r.random() < 0.8 else None
            if change:
                t["change"] = change
            self.use("read_fault_magnitude", "change", change or "rename")
            self.schedule(t, kind, g, span_ms, start_iso, zero_ok=False)
        return t

    # --- groups -----------------------------------------------------------------------------

    def group_name(self, taken: set) -> str:
        for _ in range(100):
            name = self.name_text() if self.r.random() < 0.8 else f"g{len(taken)}"
            if name and name not in taken:
                return name
        return f"group{len(taken)}"

    def compute_ids(self, g: GroupInfo):
        try:
            g.ids = [g.id_template.format(index=i, group=g.name) for i in range(g.count)]
        except (ValueError, KeyError, IndexError):
            g.ids = []

    def sensor_group(self, w: TomlWriter, gi: int, name: str, earlier: list[GroupInfo],
                     span_hint_ms: int, start_iso) -> GroupInfo:
        r = self.r
        count = r.choice([1, 1, 2, 3, 5, 10, 40, 200]) if r.random() > 0.03 else r.choice([5000, 20000])
        tmpl = self.id_template(gi, name, count)
        g = GroupInfo(name, "sensors", count, tmpl)
        self.compute_ids(g)
        w.header("group", array=True)
        w.kv("name", name)
        if r.random() < 0.9 or count > 1:
            w.kv("count", count)
        if r.random() < 0.95 or not all(c in SAFE_ID_CHARS for c in name):
            w.kv("id", tmpl)
        else:
            g.id_template = "{group}-{index}"
            self.compute_ids(g)
        if r.random() < 0.5:
            w.kv("model", "sensors")
        self.use("read_group", "model", "sensors")
        arrivals = r.random() < 0.15
        if arrivals:
            per_ms = r.choice([1 / 1000, 1 / 60_000, 1 / 86_400_000 * 40, 1 / 10])
            g.nominal_per_ms = per_ms * count
            interval_ms = max(1, int(1 / per_ms))
        else:
            interval_ms = r.choice(INTERVALS_MS)
            g.nominal_per_ms = count / interval_ms
            if interval_ms != 1000 or r.random() < 0.5:
                w.kv("interval", self.duration(interval_ms))
            if r.random() < 0.4:
                w.kv("jitter", self.duration(r.randint(0, (interval_ms - 1) // 2)))
            phase = r.choice(["random", "aligned"])
            if r.random() < 0.6:
                w.kv("phase", phase)
                self.use("read_group", "phase", phase)
            else:
                self.use("read_group", "phase", "random")
        parent = None
        if earlier and r.random() < 0.25:
            parent = r.choice(earlier)
            w.kv("parent", parent.name)
        has_driver = r.random() < 0.2
        # fields
        taken: set = set()
        fields: list[FieldInfo] = []
        for fi in range(r.randint(1, 5)):
            fname = self.field_name(taken)
            taken.add(fname)
            w.header("group.field", array=True, indent="  ")
            w.kv("name", fname, "  ")
            kinds = ["constant", "seasonal", "sine", "square", "sawtooth", "random_walk", "ou",
                     "schedule", "counter", "states", "sum"] + (["derived"] if fields else [])
            kind = r.choice(kinds)
            self.use("read_signal", "kind", kind)
            if kind == "states":
                sig, names = self.states_signal()
                f = FieldInfo(fname, numeric=False, integer=True, texts=set(names))
                f.texts_order = names
                if r.random() < 0.2:
                    typ = r.choice(["float", "int"])
                    w.kv("type", typ, "  ")
                    self.use("read_field", "type", typ)
                if r.random() < 0.2:
                    w.kv("precision", r.randint(0, 9), "  ")
                w.kv("signal", sig, "  ")
                fields.append(f)
                continue
            integer = r.random() < 0.25
            f = FieldInfo(fname, numeric=True, integer=integer)
            if integer or r.random() < 0.3:
                w.kv("type", "int" if integer else "float", "  ")
            self.use("read_field", "type", "int" if integer else "float")
            if r.random() < 0.6:
                w.kv("precision", r.randint(0, 9), "  ")
            if r.random() < 0.15:
                w.kv("resolution", r.choice([0, 0.25, 1, 1e-9, 1e-300, 1e30, 0.001, 5e-324]), "  ")
            if r.random() < 0.2:
                a, b = sorted((self.number(), self.number()))
                if a < b:
                    w.kv("min", a, "  ")
                    w.kv("max", b, "  ")
                elif r.random() < 0.5:
                    w.kv(r.choice(["min", "max"]), a, "  ")
            w.kv("signal", self.signal(kind, fields, interval_ms), "  ")
            if r.random() < 0.5:
                w.kv("noise", self.noise(), "  ")
            if r.random() < 0.4:
                w.kv("drift", self.drift(interval_ms), "  ")
            if has_driver and r.random() < 0.6:
                w.kv("driver", self.number(), "  ")
            fields.append(f)
        g.fields = fields
        numeric = [f for f in fields if f.numeric]
        if has_driver:
            w.header("group.driver", indent="  ")
            for key, make in (("daily_amplitude", self.number), ("daily_peak",
                              lambda: self.duration(r.randint(0, 86_400_000))),
                              ("stddev", self.nonneg), ("every",
                              lambda: self.duration(r.choice([1, 1000, 7_200_000])))):
                if r.random() < 0.7:
                    w.kv(key, make(), "  ")
        if arrivals:
            w.header("group.arrivals", indent="  ")
            w.kv("rate", self.rate(g.nominal_per_ms / count), "  ")
            if r.random() < 0.5:
                w.kv("daily_peak", self.duration(r.randint(0, 86_400_000)), "  ")
            if r.random() < 0.5:
                w.kv("daily_amplitude", r.choice([0, 1, 0.6, r.random()]), "  ")
            if r.random() < 0.5:
                w.kv("weekend", r.choice([1e-300, 0.5, 1.2, 100]), "  ")
        # about the simulated time a run of a few hundred messages covers
        span_ms = max(5 * interval_ms, interval_ms * r.randint(20, 400) // max(1, count))
        span_ms = min(span_ms, span_hint_ms) if r.random() < 0.3 else span_ms
        # a field named <x>_v2 next to x: a schema_drift rename of x must not duplicate it
        if self.faulty and r.random() < 0.3:
            base = r.choice(fields)
            if base.name + "_v2" not in taken:
                w.header("group.field", array=True, indent="  ")
                w.kv("name", base.name + "_v2", "  ")
                w.kv("signal", {"kind": "constant", "value": 1}, "  ")
                self.use("read_signal", "kind", "constant")
                f = FieldInfo(base.name + "_v2")
                fields.append(f)
                numeric.append(f)
        # anomalies
        kinds = ["spike", "level_shift", "trend", "variance", "stuck_at", "dropout", "frequency"]
        for _ in range(r.choice([0, 0, 1, 2, 4])):
            kind = r.choice(kinds)
            if kind not in ("dropout", "stuck_at") and not numeric:
                kind = r.choice(["dropout", "stuck_at"])
            self.use("read_anomaly", "kind", kind)
            w.header("group.anomaly", array=True, indent="  ")
            for k, v in self.anomaly(kind, g, span_ms, start_iso).items():
                w.kv(k, v, "  ")
        # transport faults
        self.faults(w, g, span_ms, start_iso, interval_ms)
        # concept drift
        if numeric and r.random() < 0.2:
            for _ in range(r.randint(1, 2)):
                w.header("group.drift", array=True, indent="  ")
                w.kv("field", r.choice(numeric).name, "  ")
                shift = self.number() if r.random() < 0.8 else 0
                w.kv("shift", shift if shift != 0 else 1, "  ")
                if r.random() < 0.5:
                    w.kv("scale", self.positive(), "  ")
                a = r.randrange(max(1, span_ms))
                if start_iso and r.random() < 0.3:
                    w.kv("start", iso_plus(start_iso, a), "  ")
                    if r.random() < 0.5:
                        w.kv("end", iso_plus(start_iso, a + r.randint(1, span_ms + 1)), "  ")
                else:
                    w.kv("start", self.duration(a), "  ")
                    if r.random() < 0.5:
                        w.kv("end", self.duration(a + r.randint(1, span_ms + 1)), "  ")
                if r.random() < 0.5:
                    w.kv("ramp", self.duration(r.randint(0, span_ms)), "  ")
        return g

    def faults(self, w, g, span_ms, start_iso, interval_ms):
        r = self.r
        if not self.faulty:
            return
        kinds = ["duplicate", "out_of_order", "late", "dropped", "malformed", "clock_skew",
                 "schema_drift"]
        chosen = r.sample(kinds, r.randint(1, 4))
        for kind in chosen:
            self.use("read_fault", "kind", kind)
            w.header("group.fault", array=True, indent="  ")
            t = self.fault(kind, g, span_ms, start_iso, interval_ms)
            for k, v in t.items():
                w.kv(k, v, "  ")
            self.has_faults = True

    def transaction_group(self, w: TomlWriter, gi: int, name: str, span_hint_ms: int,
                          start_iso) -> GroupInfo:
        r = self.r
        count = r.choice([1, 2, 10, 50, 300])
        safe = all(c in SAFE_ID_CHARS for c in name)
        tmpl = self.id_template(gi, name, count) if (not safe or r.random() < 0.7) else "{group}-{index}"
        g = GroupInfo(name, "transactions", count, tmpl)
        self.compute_ids(g)
        self.use("read_group", "model", "transactions")
        w.header("group", array=True)
        w.kv("name", name)
        w.kv("count", count)
        if tmpl != "{group}-{index}" or r.random() < 0.5:
            w.kv("id", tmpl)
        w.kv("model", "transactions")
        w.header("group.transactions", indent="  ")
        per_card_ms = r.choice([4 / 86_400_000, 100 / 86_400_000, 1 / 60_000, 1 / 1000])
        g.nominal_per_ms = per_card_ms * count
        w.kv("rate", self.rate(per_card_ms), "  ")
        for key, make in (("daily_peak", lambda: self.duration(r.randint(0, 86_400_000))),
                          ("daily_amplitude", lambda: r.choice([0, 1, 0.8, r.random()])),
                          ("weekend", lambda: r.choice([1e-300, 1.3, 50]))):
            if r.random() < 0.5:
                w.kv(key, make(), "  ")
        currency = "EUR"
        if r.random() < 0.7:
            currency = self.text(allow_empty=True)
            w.kv("currency", currency, "  ")
        merchants = r.choice([2, 3, 50, 1000])
        towns = r.randint(2, merchants)
        if r.random() < 0.8:
            w.kv("merchants", merchants, "  ")
        else:
            merchants = 1000
            towns = min(towns, 50)
        if r.random() < 0.8 or towns > 50 or merchants < 50:  # default towns: 50
            w.kv("towns", towns, "  ")
        mtmpl = "merchant-{index:05}"
        if r.random() < 0.7:
            body = self.name_text().replace("{", "{{").replace("}", "}}")
            mtmpl = r.choice([body + "{index}", "{index:x}" + body, body + "{group}{index:03}",
                              body])
            w.kv("merchant_id", mtmpl, "  ")
        try:
            merchant_ids = {mtmpl.format(index=m, group=name) for m in range(merchants)}
        except (ValueError, KeyError, IndexError):
            merchant_ids = None
        for key, lim in (("latitude", 90), ("longitude", 180)):
            if r.random() < 0.5:
                a, b = sorted((r.uniform(-lim, lim), r.uniform(-lim, lim)))
                w.kv(key, r.choice([[a, b], a, [-lim, lim], [float(lim), float(lim)]]), "  ")
        cats = []
        if r.random() < 0.7:
            for _ in range(r.randint(1, 4)):
                w.header("group.transactions.category", array=True, indent="    ")
                cname = self.text() or "c"
                w.kv("name", cname, "    ")
                mcc = "0000"
                if r.random() < 0.8:
                    mcc = self.text(allow_empty=True)
                    w.kv("mcc", mcc, "    ")
                w.kv("share", self.positive(), "    ")
                w.kv("median_amount", self.positive(1000), "    ")
                if r.random() < 0.6:
                    w.kv("amount_sigma", self.nonneg(3), "    ")
                if r.random() < 0.6:
                    w.kv("ecommerce", r.choice([0, 1, 0.5, r.random()]), "    ")
                cats.append((cname, mcc))
        else:
            cats = DEFAULT_CATEGORIES
        g.fields = [
            FieldInfo("amount"),
            FieldInfo("currency", numeric=False, texts={currency}),
            FieldInfo("merchant_id", numeric=False, texts=merchant_ids),
            FieldInfo("category", numeric=False, texts={c for c, _ in cats}),
            FieldInfo("mcc", numeric=False, texts={m for _, m in cats}),
            FieldInfo("channel", numeric=False, texts={"pos", "ecom"}),
            FieldInfo("lat"),
            FieldInfo("lon"),
            FieldInfo("device_fingerprint", numeric=False, hex_prefix="fp-"),
        ]
        span_ms = max(2, int(r.randint(5, 200) / max(g.nominal_per_ms, 1e-12)))
        for _ in range(r.choice([0, 1, 2, 5])):
            kind = r.choice(["card_testing", "account_takeover", "velocity_burst",
                             "impossible_travel", "compromised_merchant"])
            self.use("read_fraud", "kind", kind)
            w.header("group.fraud", array=True, indent="  ")
            t = {"kind": kind}
            if r.random() < 0.6:
                # the loader bounds it: attempts per hour, times the usual rate or amount
                top = {"card_testing": 3600, "velocity_burst": 1000}.get(kind, 1e6)
                t["magnitude"] = self.spread(lambda: min(self.positive(top), top))
            if kind == "compromised_merchant":
                window = r.randint(2, max(3, span_ms))
                # Compromises are drawn over a year up front, each catching `cards` of the
                # group: rate x year x cards x count is work and memory before the first
                # message. Mostly kept to ~1e5; now and then not (which a run must survive).
                per_ms = r.uniform(1, 5) / max(span_ms, 1)
                cards = r.choice([1, 0.5, 1e-300, 0.004])
                if r.random() < 0.97:
                    per_ms = min(per_ms, 1e5 / (31_536_000_000 * cards * count))
                t["rate"] = self.rate(per_ms)
                if r.random() < 0.8:
                    t["window"] = self.duration(window)
                else:
                    window = 2 * 86_400_000
                t["cards"] = cards
                if r.random() < 0.8 or window < 6 * 3_600_000:
                    t["duration"] = self.duration_range(1, window)
            else:
                self.schedule(t, kind, g, span_ms, start_iso, zero_ok=False)
            for k, v in t.items():
                w.kv(k, v, "  ")
        self.faults(w, g, span_ms, start_iso, max(1, int(1 / per_card_ms)))
        return g

    # --- the profile --------------------------------------------------------------------------

    def case(self) -> Case:
        r = self.r
        self.has_faults = False
        w = TomlWriter(r)
        name = self.text() or "p"
        w.lines.append(f"# generated by tests/integration/test_generative.py, seed {self.seed}")
        w.kv("name", name)
        if r.random() < 0.5:
            w.kv("description", self.text(allow_empty=True))
        if r.random() < 0.8:
            w.kv("seed", r.choice([0, 1, r.randrange(2 ** 32), INT64_MAX]))
        start_iso = None
        if r.random() < 0.9:
            start_iso = r.choice(STARTS) if r.random() < 0.2 else "2026-01-01T00:00:00Z"
            if self.probe and r.random() < 0.3:
                start_iso = r.choice(BAD_STARTS)
            w.kv("start", start_iso)
        span_hint_ms = r.choice([1000, 60_000, 3_600_000, 86_400_000, 7 * 86_400_000])
        groups: list[GroupInfo] = []
        taken: set = set()
        for gi in range(r.choice([1, 1, 1, 2, 2, 3])):
            gname = self.group_name(taken)
            taken.add(gname)
            if r.random() < 0.2:
                g = self.transaction_group(w, gi, gname, span_hint_ms, start_iso)
            else:
                g = self.sensor_group(w, gi, gname, groups, span_hint_ms, start_iso)
            groups.append(g)
        if r.random() < 0.3:
            shape = r.choice(["constant", "ramp", "step", "spike", "cycle", "stages"])
            self.use("read_load", "shape", shape)
            w.header("load")
            if shape != "constant" or r.random() < 0.5:
                w.kv("shape", shape)
            big = lambda: r.choice([1e6, 5e6, 1e7, 1e9])  # noqa: E731 (at most 1e9/s)
            if shape == "constant":
                w.kv("rate", big())
            elif shape == "ramp":
                w.kv("from", r.choice([0, 1e6]))
                w.kv("to", big())
                w.kv("over", self.duration(r.choice([1, 1000, 60_000])))
            elif shape == "step":
                w.kv("rates", [big() for _ in range(r.randint(1, 3))])
                w.kv("every", self.duration(r.choice([1, 1000])))
            elif shape == "spike":
                w.kv("base", big())
                w.kv("peak", big())
                w.kv("at", self.duration(r.choice([0, 1, 30_000])))
                w.kv("for", self.duration(r.choice([1, 10_000])))
            elif shape == "stages":  # k6's: 0 on the way is fine, the last one holds
                stages = []
                n = r.randint(1, 3)
                for i in range(n):
                    target = big() if i == n - 1 else r.choice([0, big()])
                    # A stage at 0 sends nothing: short ones only, or the run would idle.
                    ms = r.choice([0, 1, 1000] + ([60_000] if target else []))
                    stages.append({"duration": self.duration(ms), "target": target})
                w.kv("stages", stages)
            else:
                mean = big()
                w.kv("mean", mean)
                w.kv("amplitude", r.choice([0, mean / 2, mean]))
                w.kv("period", self.duration(r.choice([1, 60_000])))
        # Connector tables: options the connectors accept (checked by validate and run alike,
        # whatever the sink), and now and then a name no connector knows (refused: exit 2).
        valid = {
            "kafka": {"linger.ms": lambda: r.randint(0, 1000), "acks": lambda: r.choice(["all", "1", "0"]),
                      "client.id": lambda: "synthfeed-" + str(r.randint(0, 99)),
                      "key": lambda: r.choice(["device_id", "group", "none"])},
            "mqtt": {"qos": lambda: r.randint(0, 2), "retain": lambda: r.random() < 0.5,
                     "keepalive": lambda: r.choice(["5s", "30s", "10m"]),
                     "buffer": lambda: r.randint(1, 100_000)},
        }
        for table in ("kafka", "mqtt"):
            if r.random() < 0.1:
                w.header(table)
                options = valid[table]
                keys = set(r.sample(sorted(options), r.randint(1, len(options))))
                for key in sorted(keys):
                    w.lines.append(f"{toml_string(key, r)} = {toml_value(options[key](), r)}")
                if r.random() < 0.2:
                    w.lines.append(f"{toml_string(self.text() or 'k', r)} = "
                                   + toml_value(r.choice([self.text(allow_empty=True), 1, 2.5,
                                                          True, -7]), r))
        profile_text = w.text()

        # how to run it
        fmt = r.choice(["json", "json", "csv", "influx"])
        labels_fmt = "csv" if r.random() < 0.15 else "jsonl"
        label_in_payload = r.random() < 0.4
        self.use("run", "--format", fmt)
        self.use("run", "--labels-format", labels_fmt)
        args = ["--format", fmt, "--labels-format", labels_fmt]
        if label_in_payload:
            args.append("--label-in-payload")
        per_ms = sum(g.nominal_per_ms for g in groups) or 1e-9
        durations = ["250ms", "30s", "5m", "12m", "1h", "1d", "7d", "2w"]
        fits = [d for d in durations if per_ms * parse_ms(d) <= 3000 and per_ms * parse_ms(d) >= 5]
        count = r.choice([200, 500, 1000, 2000])
        if fits and r.random() < 0.5:
            args += ["--duration", r.choice(fits)]
            # The estimate knows nothing of fraud bursts and duplicates: cap the run when it
            # may be off (and sometimes anyway: both flags together are valid).
            if r.random() < 0.2 or any(g.model == "transactions" for g in groups) \
                    or self.faulty:
                args += ["--count", str(max(count, 3000))]
        else:
            args += ["--count", str(count)]
        if r.random() < 0.15:
            seed = r.choice([0, 1, INT64_MAX, r.randrange(10 ** 6)])
            if self.probe and r.random() < 0.3:
                seed = 2 ** 64 - 1
                self.hostile_flags.add("--seed")
            args += ["--seed", str(seed)]
        if r.random() < 0.15 or start_iso is None:
            start = r.choice(STARTS + ["2026-01-01T00:00:00Z"] * 5)
            if self.probe and r.random() < 0.3:
                start = r.choice(BAD_STARTS)
                self.hostile_flags.add("--start")
            args += ["--start", start]
        args += ["--threads", str(r.choice([1, 2, 3]))]
        if r.random() < 0.1:
            n = r.randint(2, 4)
            args += ["--shard", f"{r.randrange(n)}/{n}"]
        pad_to = 0
        if r.random() < 0.15:  # at most 4096: a window of 65536 such messages is 256 MiB
            pad_to = r.choice([1, 40, 200, 1000, 4096])
            args += ["--pad-to", str(pad_to)]
        # A benchmark layout, from an RNG of its own: the profiles drawn before it was added
        # stay the same.
        layout_rng = random.Random(f"layout-{self.seed}")
        layout = layout_rng.choice(LAYOUTS) if layout_rng.random() < 0.15 else ""
        if layout:
            self.use("run", "--labels-format", layout)
        return Case(self.seed, profile_text, name, groups, self.has_faults, fmt, labels_fmt,
                    label_in_payload, args, set(self.used), set(self.hostile_flags), self.probe,
                    pad_to, layout)


def parse_ms(d: str) -> int:
    m = re.fullmatch(r"(\d+)(ms|s|m|h|d|w)", d)
    return int(m.group(1)) * {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000,
                              "w": 604_800_000}[m.group(2)]


def iso_plus(start_iso: str, ms: int) -> str:
    """start + ms as RFC 3339 (UTC), for windows given as absolute times."""
    import datetime as dt
    s = start_iso.replace("z", "Z").replace(" ", "T")
    try:
        if len(s) == 10:
            base = dt.datetime.fromisoformat(s).replace(tzinfo=dt.timezone.utc)
        else:
            base = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        base = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc)
    try:
        t = base + dt.timedelta(milliseconds=ms)
    except OverflowError:
        t = base
    t = t.astimezone(dt.timezone.utc)
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def make_case(seed: int) -> Case:
    """The profile and command line of `seed`: a pure function of the seed."""
    return Generator(seed).case()


# ------------------------------------------------------------------------------------------------
# Running and checking
# ------------------------------------------------------------------------------------------------


@dataclass
class Result:
    case: Case
    cmd: list[str]
    rc: int | None = None
    validate_rc: int | None = None
    stderr: str = ""
    refused: bool = False
    problems: list[tuple[str, str]] = field(default_factory=list)

    def add(self, kind: str, detail: str):
        self.problems.append((kind, detail))


def classify(prefix: str, error: str) -> str:
    e = error
    if "NUL byte" in e:
        return "nul-byte"
    if "invalid UTF-8" in e:
        return "invalid-utf8"
    if "duplicate key" in e or "duplicate field key" in e:
        return f"{prefix}-duplicate-key"
    if "non-standard JSON constant" in e or "overflows a double" in e:
        return f"{prefix}-nonfinite"
    if "comment" in e:
        return f"{prefix}-comment-line"
    if "out of the signed 64-bit" in e:
        return f"{prefix}-timestamp-range"
    if "ends with a backslash" in e:
        return f"{prefix}-trailing-backslash"
    if "not a number" in e and "null" in e:
        return f"{prefix}-null-number"
    if "invalid field value" in e and ("null" in e or "nan" in e.lower() or "inf" in e.lower()):
        return f"{prefix}-nonfinite"
    return f"{prefix}-syntax"


def _wide(text: str) -> bool:
    """README, "What each format writes": |value| >= 1e21 is written in exponent notation,
    integer fields included."""
    try:
        return abs(float(text)) >= 1e21
    except ValueError:
        return False


def split_lines(data: bytes, res: Result, what: str) -> list[bytes]:
    if not data:
        return []
    if not data.endswith(b"\n"):
        res.add(f"{what}-no-final-newline", f"{what} file does not end with a newline")
    else:
        data = data[:-1]
    return data.split(b"\n")


def read_labels(path: Path, res: Result) -> dict:
    """{(device_id, seq): {"label", "episode", "episodes", "emitted", "faults"}}"""
    c = res.case
    labels: dict = {}
    if not path.exists():
        res.add("labels-missing", str(path))
        return labels
    lines = split_lines(path.read_bytes(), res, "labels")
    if c.labels_fmt == "csv":
        expected = ["device_id", "seq", "ts", "is_anomaly", "label", "episodes", "emitted", "faults"]
        if not lines:
            return labels
        try:
            header = parse_csv_record(check_line_bytes(lines[0]))
        except ParseError as e:
            res.add("labels-syntax", f"header: {e}")
            return labels
        if header != expected:
            res.add("labels-structure", f"CSV labels header {header}")
            return labels
        texts = []
        for raw in lines[1:]:
            try:
                texts.append(check_line_bytes(raw))
            except ParseError as e:
                res.add(classify("labels", str(e)), f"{e}: {raw[:120]!r}")
                texts.append(raw.decode("utf-8", "replace"))
        for rec in iter_csv_records(texts, len(expected)):
            if rec.error:
                res.add("labels-syntax", f"{rec.error}: {rec.text[:200]!r}")
                continue
            d = dict(zip(expected, rec.fields))
            try:
                key = (d["device_id"], int(d["seq"]))
            except ValueError:
                res.add("labels-structure", f"seq {d['seq']!r}")
                continue
            if not TS_RE.match(d["ts"]) or d["is_anomaly"] not in ("0", "1") or \
                    d["emitted"] not in ("0", "1"):
                res.add("labels-structure", f"CSV label line {rec.text[:200]!r}")
            entry = {"label": d["label"], "episode": None,
                     "episodes": d["episodes"].split("|") if d["episodes"] else [],
                     "emitted": d["emitted"] == "1",
                     "faults": d["faults"].split("|") if d["faults"] else []}
            if key in labels:
                res.add("labels-duplicate-tick", f"{key} twice")
            labels[key] = entry
        return labels
    keys = ["device_id", "seq", "ts", "label", "episode", "episodes", "emitted"]
    if c.has_faults:
        keys.append("faults")
    for raw in lines:
        try:
            d = parse_json_line(check_line_bytes(raw))
        except ParseError as e:
            res.add(classify("labels", str(e)), f"{e}: {raw[:200]!r}")
            continue
        if list(d) != keys:
            res.add("labels-structure", f"keys {list(d)}, expected {keys}")
            continue
        ok = (type(d["device_id"]) is str and type(d["seq"]) is int and d["seq"] >= 0
              and type(d["ts"]) is str and TS_RE.match(d["ts"]) and type(d["label"]) is str
              and (d["episode"] is None or type(d["episode"]) is str)
              and type(d["episodes"]) is list and all(type(x) is str for x in d["episodes"])
              and type(d["emitted"]) is bool
              and (not c.has_faults or (type(d["faults"]) is list
                                        and all(type(x) is str for x in d["faults"]))))
        if not ok:
            res.add("labels-structure", f"types in {raw[:200]!r}")
            continue
        key = (d["device_id"], d["seq"])
        if key in labels:
            res.add("labels-duplicate-tick", f"{key} twice")
        d.setdefault("faults", [])
        labels[key] = d
    return labels


def read_episodes(path: Path, res: Result, device_group: dict) -> set:
    ids: set = set()
    if not path.exists():
        res.add("episodes-missing", str(path))
        return ids
    kinds = {v for (fn, key), vs in LOADER_CHOICES.items() if key == "kind"
             and fn in ("read_anomaly", "read_fault", "read_fraud") for v in vs} | {"concept_drift"}
    for raw in split_lines(path.read_bytes(), res, "episodes"):
        try:
            d = parse_json_line(check_line_bytes(raw))
        except ParseError as e:
            res.add(classify("episodes", str(e)), f"{e}: {raw[:200]!r}")
            continue
        for k in ("episode", "device_id", "group", "field", "kind", "class", "start", "end",
                  "magnitude"):
            if k not in d:
                res.add("episodes-structure", f"no {k!r} in {raw[:200]!r}")
                break
        else:
            if d["episode"] in ids:
                res.add("episodes-duplicate", d["episode"])
            ids.add(d["episode"])
            g = device_group.get(d["device_id"])
            if g is not None and d["group"] != g.name:
                res.add("episodes-group-name", f"group {d['group']!r} for a device of group "
                                               f"{g.name!r}")
            if g is not None and d["field"] is not None and g.field(d["field"]) is None:
                res.add("episodes-structure", f"field {d['field']!r} not in group {g.name!r}")
            if d["kind"] not in kinds:
                res.add("episodes-structure", f"kind {d['kind']!r}")
            if d["class"] not in ("value", "transport", "fraud", "drift", "regime"):
                res.add("episodes-structure", f"class {d['class']!r}")
            if type(d["start"]) is not str or not TS_RE.match(d["start"]) or not (
                    d["end"] is None or (type(d["end"]) is str and TS_RE.match(d["end"]))):
                res.add("episodes-structure", f"start/end in {raw[:200]!r}")
            if type(d["magnitude"]) not in (int, float):
                res.add("episodes-structure", f"magnitude {d['magnitude']!r}")
    return ids


@dataclass
class Bad:
    detail: str
    kind: str
    key: tuple | None     # (device_id, seq) when the line says whose it is
    never_excused: bool = False


def identify_json(text: str):
    m = re.match(r'\{"device_id":"([^"\\]*)","seq":(\d+)[,}]', text)
    return (m.group(1), int(m.group(2))) if m else None


def identify_csv(text: str):
    m = re.match(r"([^,\"\n]*),(\d+),", text)
    return (m.group(1), int(m.group(2))) if m else None


def identify_influx(text: str):
    m = re.search(r",device_id=([^ ,=]+) ", text)
    s = re.search(r",seq=(\d+)i[ ,]", text)
    return (m.group(1), int(s.group(1))) if m and s else None


class DataChecker:
    def __init__(self, res: Result, labels: dict, device_group: dict):
        self.res = res
        self.case = res.case
        self.labels = labels
        self.device_group = device_group
        self.bad: list[Bad] = []
        self.seen: Counter = Counter()

    def field_value(self, g: GroupInfo, f: FieldInfo, value, where: str, csv_cell=False,
                    influx_type=None) -> str | None:
        """A problem with a field's value, or None."""
        if not f.numeric:
            if not isinstance(value, str) or influx_type not in (None, "string"):
                return f"text field {f.name!r} holds {value!r}"
            if f.hex_prefix is not None:
                if not re.fullmatch(re.escape(f.hex_prefix) + r"[0-9a-f]{8}", value):
                    return f"{f.name!r} = {value[:60]!r}"
                return None
            if f.texts is not None and value not in f.texts:
                return (f"text field {f.name!r} of group {g.name[:40]!r} reads {value[:80]!r}, "
                        f"not one of the profile's values")
            return None
        if csv_cell:
            if value == "":
                return None
            try:
                strict_number(value)
            except ParseError as e:
                return f"{f.name!r}: {e}"
            if f.integer and not re.fullmatch(r"-?\d+", value) and not _wide(value):
                return f"integer field {f.name!r} holds {value[:60]!r}"
            return None
        if influx_type is not None:
            if influx_type == "string":
                try:
                    strict_number(value)
                except ParseError as e:
                    return f"{f.name!r} (string): {e}"
                return None
            want = "int" if f.integer else "float"
            if influx_type != want:
                return f"{f.name!r} is an influx {influx_type}, expected {want}"
            return None
        if value is None:
            return None
        if isinstance(value, str):
            try:
                strict_number(value)
            except ParseError as e:
                return f"{f.name!r} (string): {e}"
            return None
        if type(value) is bool or type(value) not in (int, float):
            return f"{f.name!r} holds {value!r}"
        if f.integer and type(value) is not int and abs(value) < 1e21:
            return f"integer field {f.name!r} holds {value!r}"
        return None

    def padding(self, text: str, value, present: bool) -> str | None:
        """A problem with --pad-to's padding of a message (README: a payload shorter than
        BYTES gets a last member of uppercase letters that makes it BYTES long, a few bytes
        more when even an empty one overshoots; a longer one is left as it is), or None."""
        length = len(text.encode())
        if length < self.case.pad_to:
            return f"--pad-to {self.case.pad_to}: the payload is {length} bytes"
        if present and not (isinstance(value, str) and re.fullmatch(r"[A-Z]*", value)):
            return f"--pad-to: the padding holds {str(value)[:60]!r}"
        if present and value and length != self.case.pad_to:
            return f"--pad-to {self.case.pad_to}: a padded payload of {length} bytes"
        return None

    def match_fields(self, g: GroupInfo, present: list[str]) -> tuple[dict, list[str]]:
        """{field name: key used} and problems, for keys named f or f_v2 (schema drift)."""
        problems = []
        used: dict = {}
        for key in present:
            f = g.field(key)
            m = re.fullmatch(r"(.+)_v\d+", key)
            if f is None and m:  # schema drift renames x to x_v2 (x_v3 when x_v2 is taken)
                f = g.field(m.group(1))
            if f is None:
                problems.append(f"unknown key {key!r}")
                continue
            if f.name in used:
                problems.append(f"field {f.name!r} twice ({used[f.name]!r}, {key!r})")
                continue
            used[f.name] = key
        return used, problems

    def tick(self, key, what: str) -> tuple[GroupInfo | None, dict | None, str | None]:
        device_id, seq = key
        g = self.device_group.get(device_id)
        if g is None:
            return None, None, f"unknown device_id {device_id!r}"
        lab = self.labels.get(key)
        if lab is None:
            return g, None, f"no label line for {key}"
        if not lab["emitted"]:
            return g, lab, f"label line of {key} says emitted false"
        return g, lab, None

    def label_payload(self, lab: dict, label, episode) -> str | None:
        if label != lab["label"]:
            return f"payload label {label!r}, label line {lab['label']!r}"
        if self.case.labels_fmt == "jsonl" and episode != lab["episode"]:
            return f"payload episode {episode!r}, label line {lab['episode']!r}"
        return None

    # --- per format -------------------------------------------------------------------------

    def json_line(self, text: str) -> tuple[str, str] | None:
        try:
            d = parse_json_line(text)
        except ParseError as e:
            return classify("json", str(e)), str(e)
        keys = list(d)
        if keys[:3] != ["device_id", "seq", "ts"]:
            return "json-structure", f"keys begin {keys[:3]}"
        if type(d["device_id"]) is not str or type(d["seq"]) is not int or d["seq"] < 0 \
                or type(d["ts"]) is not str or not TS_RE.match(d["ts"]):
            return "json-structure", "device_id/seq/ts types"
        key = (d["device_id"], d["seq"])
        g, lab, why = self.tick(key, "json")
        if why:
            return "message-label-join", why
        rest = keys[3:]
        if self.case.pad_to:
            padded = bool(rest) and rest[-1] == self.case.pad_key()
            why = self.padding(text, d[rest[-1]] if padded else None, padded)
            if why:
                return "padding", why
            if padded:
                rest = rest[:-1]
        if self.case.label_in_payload:
            if rest[-2:] != ["label", "episode"]:
                return "json-structure", f"--label-in-payload: keys end {rest[-2:]}"
            why = self.label_payload(lab, d["label"], d["episode"])
            if why:
                return "label-in-payload-mismatch", why
            rest = rest[:-2]
        used, problems = self.match_fields(g, rest)
        if problems:
            return "json-structure", "; ".join(problems)
        missing = [f.name for f in g.fields if f.name not in used]
        if missing:
            return "json-structure", f"fields missing: {missing}"
        for f in g.fields:
            why = self.field_value(g, f, d[used[f.name]], "json")
            if why:
                if not f.numeric:
                    return "text-roundtrip", why
                # type = "int": "int values are rounded and printed without decimals" (README)
                return ("json-int-not-integer" if why.startswith("integer field")
                        else "json-value"), why
        self.seen[key] += 1
        return None

    def csv_record(self, fields: list[str], header: list[str], text: str) -> tuple[str, str] | None:
        row = dict(zip(header, fields))
        try:
            key = (row["device_id"], int(row["seq"]))
        except ValueError:
            return "csv-structure", f"seq {row['seq']!r}"
        if not TS_RE.match(row["ts"]):
            return "csv-structure", f"ts {row['ts']!r}"
        g, lab, why = self.tick(key, "csv")
        if why:
            return "message-label-join", why
        if self.case.label_in_payload:
            why = self.label_payload(lab, row["label"], row["episode"] or None)
            if why:
                return "label-in-payload-mismatch", why
        if self.case.pad_to:
            # Every row has the column: empty when the row is long enough already.
            why = self.padding(text, row[header[-1]], True)
            if why:
                return "padding", why
        for col in header[3:]:
            if self.case.label_in_payload and col in ("label", "episode"):
                continue
            if self.case.pad_to and col == header[-1]:
                continue
            f = g.field(col)
            if f is None:
                if row[col] != "":
                    return "csv-foreign-cell", f"column {col!r} is not a field of group " \
                                               f"{g.name[:40]!r} but holds {row[col][:60]!r}"
                continue
            why = self.field_value(g, f, row[col], "csv", csv_cell=True)
            if why:
                if not f.numeric:
                    return "text-roundtrip", why
                if why.startswith("integer field"):
                    return "csv-int-not-integer", why
                return classify("csv", why) if "null" in why else "csv-number", why
        self.seen[key] += 1
        return None

    def influx_line(self, text: str) -> tuple[str, str] | None:
        try:
            p = parse_influx_line(text)
        except ParseError as e:
            return classify("influx", str(e)), str(e)
        tags = dict(p.tags)
        if list(tags) != ["device_id"]:
            return "influx-structure", f"tags {p.tags}"
        fields = {k: (t, v) for k, t, v in p.fields}
        if "seq" not in fields or fields["seq"][0] != "int":
            return "influx-structure", "no integer seq field"
        if p.timestamp is None:
            return "influx-structure", "no timestamp"
        key = (tags["device_id"], fields["seq"][1])
        g, lab, why = self.tick(key, "influx")
        if why:
            return "message-label-join", why
        if p.measurement != g.name:
            return "influx-measurement", f"measurement {p.measurement[:80]!r}, group " \
                                         f"{g.name[:80]!r}"
        rest = [k for k in fields if k != "seq"]
        if self.case.pad_to:
            key = self.case.pad_key()
            padded = rest[-1:] == [key] and fields[key][0] == "string"
            why = self.padding(text, fields[key][1] if padded else None, padded)
            if why:
                return "padding", why
            if padded:
                rest = rest[:-1]
        if self.case.label_in_payload:
            if "label" not in fields or fields["label"][0] != "string":
                return "influx-structure", "--label-in-payload: no label string field"
            why = self.label_payload(lab, fields["label"][1], lab["episode"])
            if why:
                return "label-in-payload-mismatch", why
            rest = [k for k in rest if k != "label"]
        used, problems = self.match_fields(g, rest)
        if problems:
            return "influx-structure", "; ".join(problems)
        missing = [f.name for f in g.fields if f.name not in used and not f.numeric]
        if missing:
            return "influx-structure", f"text fields missing: {missing}"
        for f in g.fields:
            if f.name not in used:
                continue  # a non-finite number has no line protocol spelling: left out
            t, v = fields[used[f.name]]
            why = self.field_value(g, f, v, "influx", influx_type=t)
            if why:
                return ("text-roundtrip" if not f.numeric else "influx-value"), why
        naming = influx_naming_problems(p)
        if naming:
            self.res.add("influx-naming-restriction", "; ".join(naming))
        self.seen[key] += 1
        return None


def check_data(res: Result, path: Path, labels: dict, device_group: dict):
    c = res.case
    if not path.exists():
        res.add("data-missing", str(path))
        return
    raw_lines = split_lines(path.read_bytes(), res, "data")
    checker = DataChecker(res, labels, device_group)
    texts: list[str] = []
    for raw in raw_lines:
        try:
            texts.append(check_line_bytes(raw))
        except ParseError as e:
            kind = classify(c.fmt, str(e))
            checker.bad.append(Bad(f"{e}: {raw[:160]!r}", kind, None, never_excused=True))
            texts.append(raw.decode("utf-8", "replace").replace("\x00", "\ufffd"))
    identify = {"json": identify_json, "csv": identify_csv, "influx": identify_influx}[c.fmt]
    if c.fmt == "csv":
        header_expected = ["device_id", "seq", "ts"]
        for g in c.groups:
            for f in g.fields:
                if f.name not in header_expected:
                    header_expected.append(f.name)
        if c.label_in_payload:
            header_expected += ["label", "episode"]
        if c.pad_to:
            header_expected.append(c.pad_key())
        if texts:
            try:
                header = parse_csv_record(texts[0])
            except ParseError as e:
                res.add("csv-header", f"{e}: {texts[0][:200]!r}")
                header = None
            if header is not None and header != header_expected:
                res.add("csv-header", f"header {header}, expected {header_expected}")
            for rec in iter_csv_records(texts[1:], len(header_expected)):
                if rec.error:
                    problem = ("csv-columns" if "columns" in rec.error else "csv-syntax",
                               rec.error)
                else:
                    problem = checker.csv_record(rec.fields, header_expected, rec.text)
                if problem:
                    checker.bad.append(Bad(f"{problem[1]}: {rec.text[:200]!r}", problem[0],
                                           identify(rec.text)))
    else:
        parse = checker.json_line if c.fmt == "json" else checker.influx_line
        for text in texts:
            problem = parse(text)
            if problem:
                checker.bad.append(Bad(f"{problem[1]}: {text[:200]!r}", problem[0],
                                       identify(text)))
    # Malformed ticks may account for bad lines, and only they.
    budget = Counter()
    for key, lab in labels.items():
        if lab["emitted"] and "malformed" in lab["faults"]:
            budget[key] = 2 if "duplicate" in lab["faults"] else 1
    total_budget = sum(budget.values())
    unidentified = []
    for b in checker.bad:
        if b.never_excused:
            res.add(b.kind, b.detail)
            continue
        if b.key is not None and b.key in labels:
            if budget[b.key] > 0:
                budget[b.key] -= 1
                total_budget -= 1
                continue
            res.add(b.kind, f"{b.detail} (its label line names no malformed fault)")
            continue
        unidentified.append(b)
    if len(unidentified) > max(total_budget, 0):
        for b in unidentified:
            res.add(b.kind, b.detail)
        res.add("bad-lines-beyond-malformed",
                f"{len(unidentified)} unparsable lines nobody can own, {total_budget} malformed "
                f"ticks left to explain them")
    # Each message joins one label line; only a duplicate fault sends one twice.
    for key, n in checker.seen.items():
        lab = labels.get(key)
        if lab is not None and n > (2 if "duplicate" in lab["faults"] else 1):
            res.add("message-repeated", f"{key} sent {n} times, faults {lab['faults']}")


def check_result(res: Result, work: Path):
    c = res.case
    device_group = {}
    for g in c.groups:
        for i in g.ids:
            device_group[i] = g
    labels = read_labels(work / "labels.out", res)
    episode_ids = read_episodes(work / "episodes.jsonl", res, device_group)
    referenced = set()
    for lab in labels.values():
        referenced.update(lab["episodes"])
        if lab.get("episode") is not None:
            if lab["episode"] not in lab["episodes"]:
                res.add("labels-structure", f"episode {lab['episode']!r} not in episodes list")
    for e in sorted(referenced - episode_ids)[:5]:
        res.add("episode-not-in-episodes-file", e)
    # A --count cut may leave an episode line whose labels fell beyond the cut (README, Honest
    # limits: a cut between a window's end and the episode's next tick, or between two
    # messages of one device due in the same millisecond). A label naming a missing episode
    # (above) is never allowed.
    if "--count" not in c.args:
        for e in sorted(episode_ids - referenced)[:5]:
            res.add("episode-without-label", e)
    for key in labels:
        if key[0] not in device_group:
            res.add("labels-unknown-device", repr(key[0]))
            break
    # One line per tick of every device, dropouts and dropped messages included (README,
    # Ground truth): a device's seqs run from 0 without a gap. Except after a --count cut: a
    # label goes out with its message, and a delayed message (late, out_of_order, a duplicate's
    # first copy) can fall beyond the cut while later seqs made it.
    delaying = {("read_fault", "kind", k) for k in ("late", "out_of_order", "duplicate")}
    cut_with_delays = "--count" in res.case.args and bool(delaying & res.case.used)
    seqs = defaultdict(list)
    for device_id, seq in labels:
        seqs[device_id].append(seq)
    gaps = []
    for device_id, ss in seqs.items():
        if len(ss) != max(ss) + 1:
            missing = sorted(set(range(max(ss) + 1)) - set(ss))
            gaps.append(f"{device_id}: no label line for seq {missing[:5]} of 0..{max(ss)}")
    for g in gaps[:3] if not cut_with_delays else []:
        res.add("labels-seq-gap", g)
    check_data(res, work / "data.out", labels, device_group)
    summary = work / "summary.json"
    if summary.exists():
        try:
            s = strict_json_object(summary.read_text(encoding="utf-8"))
        except (ValueError, ParseError, UnicodeDecodeError) as e:
            res.add("summary-json", f"{e}: {summary.read_bytes()[:300]!r}")
        else:
            if s.get("profile") != c.name:
                res.add("summary-json", f"profile {s.get('profile')!r}, expected {c.name!r}")
            if s.get("messages_generated") != (s.get("messages_delivered", 0)
                                               + s.get("messages_failed", 0)
                                               + s.get("messages_dropped", 0)):
                res.add("summary-accounting", json.dumps(s)[:300])
    else:
        res.add("summary-missing", str(summary))



def run_case(seed: int, base: Path) -> Result:
    c = make_case(seed)
    work = base / f"seed-{seed}"
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    profile = work / "profile.toml"
    profile.write_text(c.profile, encoding="utf-8")
    cmd = [str(BINARY), "run", str(profile), "--progress", "off",
           "--sink", f"file:{work / 'data.out'}", "--labels", str(work / "labels.out"),
           "--episodes", str(work / "episodes.jsonl"),
           "--summary-json", str(work / "summary.json")] + c.args
    res = Result(c, cmd)
    v = run_binary([str(BINARY), "validate", str(profile)])
    res.validate_rc = v.returncode
    if v.returncode not in (0, 2):
        res.add("validate-exit", f"validate exited {v.returncode}: {v.stderr[-2000:]}")
    p = run_binary(cmd)
    res.rc, res.stderr = p.returncode, p.stderr
    if p.returncode is None:
        res.add("hang", f"no exit within {RUN_TIMEOUT}s")
    elif p.returncode < 0:
        res.add("crash", f"killed by signal {signal.Signals(-p.returncode).name}: "
                         f"{p.stderr[-2000:]}")
    elif p.returncode == 2:
        res.refused = True
        if str(profile) not in p.stderr and not any(f in p.stderr for f in c.hostile_flags):
            res.add("refused-without-file", f"exit 2 without naming {profile}: {p.stderr[-1000:]}")
        if v.returncode == 0 and not any(f in p.stderr for f in c.hostile_flags):
            res.add("validate-accepts-run-refuses", p.stderr[-600:])
    elif p.returncode != 0:
        res.add("exit-code", f"run exited {p.returncode}: {p.stderr[-2000:]}")
    else:
        if v.returncode == 2:
            res.add("validate-refuses-run-accepts", v.stderr[-600:])
        check_result(res, work)
        if c.layout:
            check_layout(res, work, cmd)
    return res


def check_layout(res: Result, work: Path, cmd: list[str]):
    """The same run with `--labels-format LAYOUT`: its rows are the emitted ticks of the labels,
    per device in seq order (README, Benchmark layouts). Refused (exit 2 at --labels) only past
    the layout's bounds."""
    c = res.case
    out = work / "layout"
    layout_cmd = []
    skip = 0
    for arg in cmd:
        if skip:
            skip -= 1
        elif arg in ("--sink", "--labels", "--episodes", "--summary-json", "--labels-format"):
            skip = 1
        else:
            layout_cmd.append(arg)
    layout_cmd += ["--sink", "null:", "--labels", str(out), "--labels-format", c.layout]
    p = run_binary(layout_cmd)
    if p.returncode == 2 and "--labels" in p.stderr and "at most" in p.stderr:
        return
    if p.returncode != 0:
        res.add("layout-exit", f"{c.layout} run exited {p.returncode}: {p.stderr[-1500:]}")
        return
    rows = defaultdict(list)  # device -> (seq, ts, is_anomaly) of its emitted ticks
    for (device, seq), lab in sorted(read_labels(work / "labels.out", res).items()):
        if lab["emitted"]:
            rows[device].append((seq, lab.get("ts"), 0 if lab["label"] == "normal" else 1))
    if c.layout == "timeeval":
        with open(out / "datasets.csv", newline="", encoding="utf-8") as f:
            index = list(csv.DictReader(f))
        for entry in index:
            device = entry["dataset_name"]
            with open(out / entry["test_path"], newline="", encoding="utf-8") as f:
                series = list(csv.reader(f))
            if series[0][0] != "timestamp" or series[0][-1] != "is_anomaly":
                res.add("layout-structure", f"{entry['test_path']}: header {series[0]}")
            got = [(r[0], int(r[-1])) for r in series[1:]]
            want = [(ts, a) for _, ts, a in rows.get(device, [])]
            if c.labels_fmt == "csv":
                got = [a for _, a in got]
                want = [a for _, a in want]
            if got != want or int(entry["length"]) != len(got):
                res.add("layout-rows", f"{device}: {len(got)} rows, labels say {len(want)}")
        return
    data = sorted(p.relative_to(out / "data").as_posix() for p in (out / "data").rglob("*.csv"))
    for name in ("combined_labels", "combined_windows"):
        keys = sorted(json.loads((out / "labels" / f"{name}.json").read_text()))
        if keys != data:
            res.add("layout-structure", f"{name}.json keys are not the data files")
    for name in data:
        lines = (out / "data" / name).read_text(encoding="utf-8").splitlines()
        device_rows = [n for d, n in ((d, len(r)) for d, r in rows.items())
                       if name.split("/")[1].startswith(layout_file_name(d) + ".")]
        if lines[0] != "timestamp,value" or len(lines) - 1 not in device_rows:
            res.add("layout-rows", f"{name}: {len(lines) - 1} rows, labels say {device_rows}")


@dataclass
class Proc:
    returncode: int | None
    stdout: str
    stderr: str


def run_binary(cmd: list[str]) -> Proc:
    for attempt in range(4):
        if BINARY.exists():
            break
        import time
        time.sleep(30)  # being relinked by a concurrent build
    try:
        limited = [PRLIMIT, f"--as={ADDRESS_SPACE}", "--"] + cmd if PRLIMIT else cmd
        p = subprocess.run(limited, capture_output=True, timeout=RUN_TIMEOUT, env=clean_env(),
                           stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as e:
        return Proc(None, "", (e.stderr or b"").decode("utf-8", "replace"))
    return Proc(p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace"))


# ------------------------------------------------------------------------------------------------
# pytest
# ------------------------------------------------------------------------------------------------

LOADER_CHOICES = loader_choices()
REPORT: dict = {}
_REPORT_LOCK = threading.Lock()


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    if not BINARY.is_file():
        pytest.fail(f"{BINARY} is missing: build it with scripts/build release")
    keep = os.environ.get("SYNTHFEED_GENERATIVE_KEEP")
    base = Path(keep) if keep else tmp_path_factory.mktemp("generative")
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=max(1, JOBS))
    futures = {seed: pool.submit(run_case, seed, base) for seed in SEEDS}
    try:
        yield futures
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        path = os.environ.get("SYNTHFEED_GENERATIVE_REPORT")
        if path:
            with _REPORT_LOCK:
                Path(path).write_text(json.dumps(REPORT, indent=1, ensure_ascii=False))
        if not keep:
            shutil.rmtree(base, ignore_errors=True)


def test_strict_parsers_refuse_what_the_specs_refuse():
    """The parsers themselves, on the specifications' own examples and counter-examples."""
    p = parse_influx_line('cpu,host=server\\ 01,region=us\\,west value=1.0,'
                          'msg="all \\"systems\\" \\\\ up",n=-3i,b=t 1434055562000000000')
    assert (p.measurement, p.tags) == ("cpu", [("host", "server 01"), ("region", "us,west")])
    assert p.fields == [("value", "float", 1.0), ("msg", "string", 'all "systems" \\ up'),
                        ("n", "int", -3), ("b", "bool", True)]
    # InfluxDB v2 docs, "Escaping backslashes": literal in measurements, escaped in strings
    p = parse_influx_line('air\\\\\\Sensor,sensor_id=TLM\\=0201 desc="\\\\\\"==My data\\==\\\\"')
    assert (p.measurement, p.tags[0][1], p.fields[0][2]) == ("air\\\\\\Sensor", "TLM=0201",
                                                             '\\"==My data\\==\\')
    for bad in ["cpu value=nan", "cpu value=inf", "cpu value=null", "#cpu value=1",
                "cpu value=1 9223372036854775807", "cpu,host=a\\ value=1", "cpu value=1,value=2",
                "cpu value=9223372036854775808i", 'cpu value="a"b"', "cpu value=1e400",
                "cpu,host= value=1", "cpu value=1 "]:
        with pytest.raises(ParseError):
            parse_influx_line(bad)
    for bad in ['{"a":1,"a":2}', '{"a":NaN}', '{"a":Infinity}', '{"a":1e400}', "[1]",
                '{"a":"\\ud800"}', '{"a":1} ']:
        with pytest.raises(ParseError):
            parse_json_line(bad)
    for bad in ['a"b,c', '"a"x,b', '"a', "a,b\r"]:
        with pytest.raises(ParseError):
            parse_csv_record(bad)
    assert parse_csv_record('"a""b","c\nd",,e') == ['a"b', "c\nd", "", "e"]
    recs = list(iter_csv_records(['x,"a', 'b",c', 'd,"e', "f,g,h"], 3))
    assert [(r.first_line, r.line_count, r.error is None) for r in recs] == [
        (0, 2, True), (2, 1, False), (3, 1, True)]
    for bad in [b"a\x00b", b"\xe2\x80", b"\xed\xa0\x80"]:
        with pytest.raises(ParseError):
            check_line_bytes(bad)


def test_loader_choices_are_found():
    """The extraction itself: the loader's kinds are where this test expects them."""
    c = LOADER_CHOICES
    assert "constant" in c.get(("read_signal", "kind"), []), c
    assert "malformed" in c.get(("read_fault", "kind"), []), c
    assert "card_testing" in c.get(("read_fraud", "kind"), []), c
    assert "dropout" in c.get(("read_anomaly", "kind"), []), c
    assert "exponential" in c.get(("read_drift", "kind"), []), c
    assert "student_t" in c.get(("read_noise", "kind"), []), c
    assert "cycle" in c.get(("read_load", "shape"), []), c
    assert "linear" in c.get(("read_schedule_points", "interpolate"), []), c
    assert "type" in c.get(("read_fault_magnitude", "change"), []), c
    assert "aligned" in c.get(("read_group", "phase"), []), c


def required_coverage() -> set:
    need = {(fn, key, v) for (fn, key), vs in LOADER_CHOICES.items() for v in vs}
    need |= {("run", "--format", f) for f in binary_formats()}
    need |= {("run", "--labels-format", f) for f in label_formats()}
    return need


def test_generator_covers_every_loader_choice():
    """Every value of every choice the loader offers (signal, noise, drift, anomaly, fault,
    fraud kinds, load shapes, models, phases, directions, ...) and every payload and label
    format appears in some generated profile: a kind added to the loader without the generator
    learning it fails here."""
    used = set()
    for seed in SEEDS:
        used |= make_case(seed).used
    missing = sorted(required_coverage() - used)
    assert not missing, (f"the generator never produces {missing} over seeds "
                         f"{SEEDS[0]}..{SEEDS[-1]}: teach it (or run more profiles)")


def describe(res: Result) -> str:
    c = res.case
    by_kind = defaultdict(list)
    for kind, detail in res.problems:
        by_kind[kind].append(detail)
    lines = [f"seed {c.seed}: {len(res.problems)} problems, kinds {sorted(by_kind)}",
             f"reproduce: SYNTHFEED_GENERATIVE_SEEDS={c.seed} .venv/bin/python -m pytest -q "
             f"tests/integration/test_generative.py -p no:cacheprovider",
             "command: " + " ".join(res.cmd), f"exit {res.rc} (validate {res.validate_rc})"]
    for kind, details in sorted(by_kind.items())[:MAX_PROBLEMS_SHOWN]:
        lines.append(f"  [{kind}] x{len(details)}")
        for d in details[:3]:
            lines.append(f"      {d[:400]}")
    if res.stderr and (res.rc not in (0,)):
        lines.append("stderr: " + res.stderr[-1500:])
    text = c.profile if len(c.profile) < 20000 else c.profile[:20000] + "\n...(cut)"
    lines.append("profile:\n" + text)
    return "\n".join(lines)


@pytest.mark.parametrize("seed", SEEDS, ids=[f"seed{s}" for s in SEEDS])
def test_generated_profile(seed, runs):
    res = runs[seed].result()
    with _REPORT_LOCK:
        REPORT[str(seed)] = {
            "rc": res.rc, "validate_rc": res.validate_rc, "refused": res.refused,
            "stderr": res.stderr[-600:] if res.rc else "",
            "kinds": {k: [d for kk, d in res.problems if kk == k][:3]
                      for k in sorted({k for k, _ in res.problems})},
            "args": res.case.args, "profile_chars": len(res.case.profile),
        }
    assert not res.problems, describe(res)


def test_most_profiles_are_accepted_and_cover_every_kind(runs):
    """The generator stays within what the loader accepts (exit 2 is the exception), and the
    profiles that ran cover every loader choice."""
    results = [f.result() for f in runs.values()]
    refused = [r for r in results if r.refused]
    assert len(refused) <= len(results) * 0.25, (
        f"{len(refused)} of {len(results)} profiles refused; first: "
        + "; ".join(f"seed {r.case.seed}: {r.stderr.strip()[-200:]}" for r in refused[:5]))
    used = set()
    for r in results:
        if r.rc == 0:
            used |= r.case.used
    missing = sorted(required_coverage() - used)
    assert not missing, f"no accepted profile covered {missing}"
