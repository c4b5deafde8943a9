#!/usr/bin/env python3
"""Print the longest State of the Union addresses by word count."""
import csv
import sys

with open(sys.argv[1], newline="") as f:
    rows = sorted(csv.DictReader(f), key=lambda r: int(r["words"]), reverse=True)
for row in rows[:5]:
    print(f"{row['year']} {row['president']}: {row['words']} words")
