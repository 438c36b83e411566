#!/usr/bin/env bash
# Lighthouse (mobile, the default form factor) on the home page, search results and three code pages, against a
# production-mode `rvuedge serve` (hashed, pre-compressed static files; gzip of public HTML), in the system Chromium.
#
#   bench/lighthouse.sh [DATA_DIR] [--write]
#
# DATA_DIR: an RVUEDGE_DATA_DIR with RVU25A, HCPCS 2026 and our content loaded (bench/page_weight.py and
# bench/search.py prepare one); default: a new one, loaded by `rvuedge serve --data`.
# Lighthouse is pinned (12.2.3: the newest that runs on Node 20) and fetched by npx. Scores vary with machine load:
# the script prints the load average beside them.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PY="${PYTHON:-$ROOT/.venv/bin/python}"
DATA_DIR="${1:-$(mktemp -d /tmp/rvuedge-lh-XXXXXX)}"
WRITE="${2:-}"
[ "${1:-}" = "--write" ] && { WRITE="--write"; DATA_DIR="$(mktemp -d /tmp/rvuedge-lh-XXXXXX)"; }
OUT="$(mktemp -d /tmp/rvuedge-lh-out-XXXXXX)"
PORT="$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
export CHROME_PATH=/usr/bin/chromium
CMS="${RVUEDGE_CMS_DATA:-$ROOT/../shared/data/cms}"

env -u DATABASE_URL RVUEDGE_PRODUCTION=1 SECURE_SSL_REDIRECT=0 ALLOWED_HOSTS=127.0.0.1 \
    SECRET_KEY="$("$PY" -c 'import secrets; print(secrets.token_urlsafe(60))')" RVUEDGE_DATA_DIR="$DATA_DIR" \
    "$PY" -m rvuedge.cli serve --data "$CMS/rvu25a/RVU25A.zip" \
    --hcpcs "$CMS/hcpcs2026jan/HCPC2026_JAN_ANWEB_01122026.txt" --port "$PORT" --workers 2 --threads 2 \
    >"$OUT/serve.log" 2>&1 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/" 2>/dev/null && break
  kill -0 $SERVER 2>/dev/null || { cat "$OUT/serve.log"; exit 1; }
  sleep 1
done

PAGES=("/" "/codes/?q=knee+arthroplasty" "/codes/27447/" "/codes/99214/" "/codes/71046/")
for p in "${PAGES[@]}"; do curl -fsS -o /dev/null "http://127.0.0.1:$PORT$p"; done  # build each page once
LOAD_BEFORE="$(cut -d' ' -f1-3 /proc/loadavg)"
i=0
for p in "${PAGES[@]}"; do
  i=$((i + 1))
  for attempt in 1 2 3; do  # a loaded machine sometimes loses the trace (NO_NAVSTART): run that page again
    npx --yes lighthouse@12.2.3 "http://127.0.0.1:$PORT$p" --quiet --output=json --output-path="$OUT/$i.json" \
      --chrome-flags="--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage" >/dev/null 2>"$OUT/$i.err" \
      && break
    [ "$attempt" = 3 ] && { cat "$OUT/$i.err"; exit 1; }
  done
done
LOAD_AFTER="$(cut -d' ' -f1-3 /proc/loadavg)"

RVUEDGE_ROOT="$ROOT" "$PY" - "$OUT" "$LOAD_BEFORE" "$LOAD_AFTER" "$WRITE" "${PAGES[@]}" <<'EOF'
import json, os, sys
out, before, after, write, *pages = sys.argv[1:]
rows = ["| Page | Performance | Accessibility | Best practices | SEO | LCP | TBT | CLS |", "|---|---:|---:|---:|---:|---:|---:|---:|"]
failed = []
for i, page in enumerate(pages, 1):
    r = json.load(open(f"{out}/{i}.json"))
    c = {k: round(v["score"] * 100) for k, v in r["categories"].items()}
    a = r["audits"]
    rows.append(f"| `{page}` | {c['performance']} | {c['accessibility']} | {c['best-practices']} | {c['seo']} | "
                f"{a['largest-contentful-paint']['displayValue']} | {a['total-blocking-time']['displayValue']} | "
                f"{a['cumulative-layout-shift']['displayValue']} |")
    for cat in r["categories"].values():
        for ref in cat["auditRefs"]:
            au = a[ref["id"]]
            if ref.get("weight") and au.get("score") is not None and au["score"] < 1:
                failed.append(f"{page}: {au['id']} ({au['score']})")
text = "\n".join(rows) + f"\n\nLighthouse 12.2.3, mobile (default throttling), /usr/bin/chromium, production-mode `rvuedge serve` (2 workers); load average before {before}, after {after} (2 cores shared)."
if failed:
    text += "\n\nAudits below 1: " + "; ".join(failed)
print(text)
if write == "--write":
    root = os.environ.get("RVUEDGE_ROOT")
    sys.path.insert(0, root)
    from bench._common import append_to_docs
    append_to_docs("## Issue 18: code page weight and Lighthouse", "Lighthouse, mobile", "bench/lighthouse.sh --write", text)
EOF
