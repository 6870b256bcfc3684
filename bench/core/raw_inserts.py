"""Raw inserts into an SQLite file with Saanjh's durability settings
(WAL, synchronous=FULL, one transaction per write): the ceiling the API's
append rate is compared against. Rows go into a scratch table with the same
columns as `events`, so the events table and its chains are untouched."""
import sqlite3, sys, time, hashlib, json

path, seconds = sys.argv[1], float(sys.argv[2])
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY AUTOINCREMENT, chain TEXT, seq BIGINT, at TEXT, actor TEXT, kind TEXT, payload TEXT, prev_hash TEXT, hash TEXT, scheme_id TEXT)")
payload = json.dumps({"kind": "ledger_entry_posted", "entry": "x", "scheme": "s", "line": {"kind": "pledge", "role": "community", "amount": 150000}})
n, prev = 0, "0" * 64
end = time.monotonic() + seconds
start = time.monotonic()
while time.monotonic() < end:
    h = hashlib.sha256((prev + payload).encode()).hexdigest()
    db.execute("BEGIN")
    db.execute("INSERT INTO bench_raw (chain, seq, at, actor, kind, payload, prev_hash, hash, scheme_id) VALUES (?,?,?,?,?,?,?,?,?)",
               ("bench", n + 1, "2026-11-29T00:00:00Z", "bench", "ledger_entry_posted", payload, prev, h, "s"))
    db.execute("COMMIT")
    prev, n = h, n + 1
elapsed = time.monotonic() - start
print(f"{n / elapsed:.0f}")
