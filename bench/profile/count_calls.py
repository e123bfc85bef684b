#!/usr/bin/env python3
"""Total instructions of a callgrind profile, the calls of functions whose names contain the
given texts, and the instructions per call of each: `count_calls.py callgrind.out NAME...`.

callgrind names a function in full once and by its number after that ("cfn=(12) name", then
"cfn=(12)"); a "calls=N" line follows each call site.
"""
import re
import sys

path, wanted = sys.argv[1], sys.argv[2:]
names = {}
calls = {w: 0 for w in wanted}
total = None
callee = None
for line in open(path, errors="replace"):
    m = re.match(r"(c?fn)=\((\d+)\)(?: (.*))?", line)
    if m:
        if m.group(3):
            names[m.group(2)] = m.group(3)
        callee = names.get(m.group(2), "") if m.group(1) == "cfn" else None
        continue
    if line.startswith("calls=") and callee is not None:
        n = int(line.split("=")[1].split()[0])
        for w in wanted:
            if w in callee:
                calls[w] += n
        callee = None
    elif line.startswith(("summary:", "totals:")):
        total = int(line.split()[1])
print(f"instructions: {total:,}")
for w, n in calls.items():
    per = f", {total / n:,.0f} instructions per call" if n and total else ""
    print(f"{w}: {n:,} calls{per}")
