#!/usr/bin/env python3
"""Markdown report of a bench/mqtt run: python3 bench/mqtt_report.py OUT_DIR (the script calls it).

Rates are counted by the subscriber, from its first to its last arrival; ratios are taken per
round (same round, same broker, neighbouring minutes) and summarised by their median and range.
"""
import json
import os
import re
import statistics
import sys

work = sys.argv[1]
meta = {}
for line in open(os.path.join(work, "meta")):
    for item in re.findall(r"(\w+)=(.*?)(?= \w+=|$)", line.strip()):
        meta.setdefault(item[0], item[1])
hz = int(meta.get("hz", 100))
connect_rate = float(meta.get("connect_rate", 2000))
fleet_s = float(meta.get("fleet_s", 90))

samples = []  # (time, broker jiffies, machine busy, machine total)
if os.path.exists(os.path.join(work, "samples")):
    for line in open(os.path.join(work, "samples")):
        parts = line.split()
        if len(parts) == 4:
            samples.append(tuple(float(x) for x in parts))


def med(values):
    return statistics.median(values) if values else float("nan")


def spread(values, fmt):
    if not values:
        return "n/a"
    if len(values) == 1:
        return fmt(values[0])
    return f"{fmt(min(values))}–{fmt(max(values))}"


def k(x):
    return f"{x / 1000:,.1f}k"


def broker_peak(t0, t1):
    """Highest broker CPU share (of one core) over any 1 s (two samples) inside [t0, t1]."""
    inside = [s for s in samples if t0 <= s[0] <= t1]
    best = 0.0
    j = 0
    for i, a in enumerate(inside):
        j = max(j, i + 1)
        while j < len(inside) and inside[j][0] - a[0] < 0.95:
            j += 1
        if j < len(inside):
            b = inside[j]
            best = max(best, (b[1] - a[1]) / hz / (b[0] - a[0]))
    return best


print(f"# bench/mqtt, {meta.get('date')}\n")
print(f"- synthfeed {meta.get('git')}, binary sha256 {meta.get('binary')}; Mosquitto {meta.get('mosquitto')}")
print(f"- machine: {meta.get('cpus')}; load average {meta.get('load_start')} at the start, "
      f"{meta.get('load_end')} at the end; CPU pressure (some avg10/avg60/avg300) "
      f"{meta.get('pressure_start')} → {meta.get('pressure_end')}")
print(f"- rounds {meta.get('rounds')} (mqtt-benchmark and Paho rows: the first {meta.get('ref_rounds')}); {meta.get('count')} messages per QoS 0 run, "
      f"{meta.get('count_q1')} per QoS 1 run; broker peak RSS {int(meta.get('broker_hwm_kb') or 0) / 1024:.0f} MB\n")

# ------------------------------------------------------------------------------------------------
runs = []
tput = os.path.join(work, "tput")
if os.path.exists(tput):
    for line in open(tput):
        f = line.rstrip("\n").split("|")
        part, rnd, name, qos, n, received, first, last, t0, t1 = f[:10]
        pub = [float(x) for x in f[10].split()]
        sub = [float(x) for x in f[11].split()] if f[11].strip() else [0, 0, 0, 0]
        broker_j = float(f[12])
        m = [float(x) for x in f[13].split()]
        r = dict(part=part, round=int(rnd), name=name, qos=int(qos), n=int(n), received=int(received),
                 first=float(first), last=float(last), t0=float(t0), t1=float(t1),
                 pub_wall=pub[0], pub_cpu=pub[1] + pub[2], pub_rss=pub[3] / 1024,
                 sub_cpu=sub[1] + sub[2], broker_cpu=broker_j / hz, rc=f[14])
        window = r["t1"] - r["t0"]
        r["rate"] = (r["received"] - 1) / (r["last"] - r["first"]) if r["last"] > r["first"] else 0.0
        r["e2e"] = r["received"] / (r["last"] - r["t0"]) if r["last"] > r["t0"] else 0.0
        r["cpu_per_m"] = r["pub_cpu"] / r["n"] * 1e6
        r["broker_share"] = r["broker_cpu"] / window
        r["sub_share"] = r["sub_cpu"] / window
        r["pub_share"] = r["pub_cpu"] / window
        r["machine"] = (m[2] - m[0]) / (m[3] - m[1]) if m[3] > m[1] else 0.0  # of all CPUs
        r["broker_peak"] = broker_peak(r["t0"], r["last"])
        runs.append(r)


def other(r):
    """CPU used by everything else on the machine during the run (other users of the shared VM,
    the bench's own shell loops), in cores."""
    return max(0.0, r["machine"] * (os.cpu_count() or 2) - r["broker_share"] - r["sub_share"] - r["pub_share"])


def table(part, title, reference):
    rows = [r for r in runs if r["part"] == part]
    if not rows:
        return
    names = list(dict.fromkeys(r["name"] for r in rows))
    n = rows[0]["n"]
    print(f"## {title}\n")
    print(f"{n:,} messages per run; rate = messages received by the subscriber from its first to its last "
          f"arrival; ratio = this publisher's rate / {reference}'s in the same round; CPU = publisher's "
          f"user + sys (`/usr/bin/time`).\n")
    print("| publisher | msg/s per round | median msg/s (spread) | ratio per round | median ratio "
          "| received (all rounds) | CPU s per M msg, median (spread) | max RSS MB | % of a core, median: publisher / broker / subscriber / other load |")
    print("|---|---|---:|---|---:|---:|---:|---:|---|")
    ref = {r["round"]: r["rate"] for r in rows if r["name"] == reference}
    for name in names:
        mine = sorted((r for r in rows if r["name"] == name), key=lambda r: r["round"])
        rates = [r["rate"] for r in mine]
        ratios = [r["rate"] / ref[r["round"]] for r in mine if ref.get(r["round"])]
        cpu = [r["cpu_per_m"] for r in mine]
        recv = sum(r["received"] for r in mine)
        sent = sum(r["n"] for r in mine)
        ratio_cells = ("—", "1") if name == reference else (
            ", ".join(f"{x:.2f}" for x in ratios), f"**{med(ratios):.2f}×**")
        print(f"| {name} | {', '.join(k(x) for x in rates)} | **{k(med(rates))}** ({spread(rates, k)}) "
              f"| {ratio_cells[0]} | {ratio_cells[1]} | {recv:,} / {sent:,} "
              f"| {med(cpu):.2f} ({spread(cpu, lambda x: f'{x:.2f}')}) | {max(r['pub_rss'] for r in mine):.0f} "
              f"| {med([r['pub_share'] * 100 for r in mine]):.0f} / {med([r['broker_share'] * 100 for r in mine]):.0f} "
              f"/ {med([r['sub_share'] * 100 for r in mine]):.0f} / {med([other(r) * 100 for r in mine]):.0f} |")
    print()


table("qos0", "QoS 0, one connection", "mosquitto_pub")
table("qos1", "QoS 1, one connection", "mosquitto_pub")

rows = [r for r in runs if r["part"] == "conn4"]
if rows:
    table("conn4", "QoS 0, synthfeed connections=4 --threads 2 vs four mosquitto_pub -l", "mosquitto_pub-x4")
    print("Who uses the CPU during each run (share of one core over the run, from /proc/PID/stat; "
          "machine = share of both cores busy, from /proc/stat; other = machine − broker − subscriber − "
          "publisher, i.e. other users of this shared VM):\n")
    print("| publisher | round | msg/s | broker avg % | broker peak 1 s % | subscriber % | publisher % "
          "| machine busy % of 2 cores | other % of a core |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in sorted(rows, key=lambda r: (r["name"], r["round"])):
        print(f"| {r['name']} | {r['round']} | {k(r['rate'])} | {r['broker_share'] * 100:.0f} "
              f"| {r['broker_peak'] * 100:.0f} | {r['sub_share'] * 100:.0f} | {r['pub_share'] * 100:.0f} "
              f"| {r['machine'] * 100:.0f} | {other(r) * 100:.0f} |")
    print()

# ------------------------------------------------------------------------------------------------
fleet = os.path.join(work, "fleet")
if os.path.exists(fleet):
    print("## Per-device fleet in one process\n")
    print(f"connect_rate {connect_rate:.0f}/s (synthfeed's URI; mqtt-benchmark's -ramp-up-time = clients / "
          f"that rate); steady window = from first arrival + ramp + one interval + 2 s to "
          f"{fleet_s:.0f} s − 2 s after the first arrival (or the last arrival − 2 s); $SYS peak minus "
          f"the bench's two subscribers.\n")
    print("| publisher | clients | target msg/s | steady msg/s (ratio) | per-second min–max | received "
          "| $SYS connected peak | connect rate /s (10→90 %) | all up after s | max lag s | wall s | CPU s | CPU % of a core "
          "| peak RSS MB | peak fds | broker CPU % of a core | exit |")
    print("|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for line in open(fleet):
        name, devices, interval, rc, stopped, t0, wall, cpu, hwm, fds, broker_j, limit = line.rstrip("\n").split("|")
        devices, interval, t0, wall = int(devices), float(interval), float(t0), float(wall)
        cpu_s = float(cpu) / hz
        target = devices / interval
        arrivals = [float(x) for x in open(os.path.join(work, f"fleet-{name}.recv")) if x.strip()]
        sysv = []
        for s in open(os.path.join(work, f"fleet-{name}.sys")):
            p = s.split()
            if len(p) == 2 and p[1].isdigit():
                sysv.append((float(p[0]), int(p[1]) - 2))
        peak = max((c for _, c in sysv), default=0)
        summary = {}
        try:
            summary = json.load(open(os.path.join(work, f"fleet-{name}.summary.json")))
        except (OSError, ValueError):
            pass
        # connect rate: established connections to the broker's port (ss, every second, minus the
        # bench's two subscribers), from 10 % to 90 % of the peak, linearly interpolated
        conn = [(t0, 0)]
        try:
            for l in open(os.path.join(work, f"fleet-{name}.conn")):
                p = l.split()
                if len(p) == 2:
                    conn.append((float(p[0]), max(0, int(p[1]) - 2)))
        except OSError:
            pass
        top = max(c for _, c in conn)

        def crossing(level):
            for (ta, ca), (tb, cb) in zip(conn, conn[1:]):
                if ca < level <= cb:
                    return ta + (tb - ta) * (level - ca) / (cb - ca)
            return None

        lo, hi, full = crossing(0.1 * top), crossing(0.9 * top), crossing(top)
        rate_c = f"{0.8 * top / (hi - lo):,.0f}" if lo is not None and hi is not None and hi > lo else "n/a"
        ramp_s = f"{full - t0:.1f}" if full is not None else "n/a"
        steady, per_sec = "n/a", "n/a"
        if arrivals:
            first, last = arrivals[0], arrivals[-1]
            a = first + devices / connect_rate + interval + 2
            b = min(first + fleet_s, last) - 2
            if b - a >= 5:
                inside = sum(1 for x in arrivals if a <= x < b)
                steady = f"{inside / (b - a):,.0f} ({inside / (b - a) / target:.3f})"
                buckets = {}
                for x in arrivals:
                    if a <= x < a + int(b - a):
                        buckets[int(x - a)] = buckets.get(int(x - a), 0) + 1
                per_sec = f"{min(buckets.values()):,}–{max(buckets.values()):,}" if buckets else "n/a"
        lag = summary.get("max_schedule_lag_seconds")
        print(f"| {name} | {devices:,} | {target:,.0f} | {steady} | {per_sec} | {len(arrivals):,} | {peak:,} "
              f"| {rate_c} | {ramp_s} | {f'{lag:.3f}' if lag is not None else 'n/a'} | {wall:.0f} | {cpu_s:.1f} "
              f"| {cpu_s / wall * 100:.0f} | {int(hwm) / 1024:.0f} | {int(fds):,} | {float(broker_j) / hz / wall * 100:.0f} "
              f"| {rc}{' (stopped at the limit)' if stopped else ''} |")
    print()
    for line in open(fleet):
        name = line.split("|")[0]
        try:
            s = json.load(open(os.path.join(work, f"fleet-{name}.summary.json")))
        except (OSError, ValueError):
            continue
        c = s.get("connections", {})
        print(f"- {name}: generated {s.get('messages_generated'):,}, delivered {s.get('messages_delivered'):,}, "
              f"failed {s.get('messages_failed'):,}, dropped {s.get('messages_dropped'):,}; clients "
              f"{c.get('clients')}, peak connected {c.get('connected_peak')}, given up {c.get('failed')}, "
              f"reconnects {c.get('reconnects')}; connect latency p50/p95/p99 "
              f"{'/'.join(f'{v:.3f}' for v in c.get('connect_latency_seconds', {}).values())} s; "
              f"elapsed {s.get('elapsed_seconds', 0):.1f} s")
    for line in open(fleet):
        name = line.split("|")[0]
        errs = [l.strip() for l in open(os.path.join(work, f"fleet-{name}.err"), errors="replace")
                if "progress:" not in l and l.strip()]
        kinds = {}
        for l in errs:
            key = re.sub(r"\d+", "N", re.sub(r"^(\d{4}/\d\d/\d\d \d\d:\d\d:\d\d|\d{4}-\d\d-\d\dT[\d:.]+Z) ", "", l))[:160]
            kinds[key] = kinds.get(key, 0) + 1
        notable = [(v, key) for key, v in kinds.items() if not key.startswith(("info:", "summary:", "generated", "delivered",
                                                                             "truth", "sim time", "clients"))]
        for v, key in sorted(notable, reverse=True)[:3]:
            print(f"- {name} stderr, {v}×: `{key}`")
    print()
