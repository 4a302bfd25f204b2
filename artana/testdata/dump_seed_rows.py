"""Dump the rows of the Python original's ledgers as JSON Lines, one row a line.

The root package's tests verify these rows without SQLite: each line holds the
kernel_events columns exactly as stored (prev_event_hash null for seq 1).

usage: python3 testdata/dump_seed_rows.py sqlite/testdata/seed testdata/seed_rows
"""
import json
import sqlite3
import sys
from pathlib import Path

src, dst = Path(sys.argv[1]), Path(sys.argv[2])
dst.mkdir(parents=True, exist_ok=True)
cols = ["run_id", "seq", "event_id", "tenant_id", "event_type", "prev_event_hash",
        "event_hash", "timestamp", "payload_json"]
for db in sorted(src.glob("*.db")):
    con = sqlite3.connect(f"file:{db}?mode=ro&immutable=1", uri=True)
    rows = con.execute(f"SELECT {', '.join(cols)} FROM kernel_events ORDER BY run_id, seq").fetchall()
    con.close()
    with open(dst / (db.stem + ".jsonl"), "w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(dict(zip(cols, row)), ensure_ascii=False) + "\n")
