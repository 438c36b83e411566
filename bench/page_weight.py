"""Bytes of a code page's first visit: HTML + CSS + JS, uncompressed and as transferred, beside `main`.

    python bench/page_weight.py [--data-dir DIR] [--baseline main] [--write]

Prepares (or reuses) a database with RVU25A, the 2026 HCPCS file and our content (as bench/search.py does), then
measures, in a child process per source tree against that same database, the first visit of a few code pages:

* the HTML as the app sends it to a browser that accepts ``gzip, deflate, br`` (the page's own middleware
  decides whether it is compressed), through Django's test client;
* every stylesheet and script the page links (``<link rel="stylesheet">``, ``<script src>``), at the size the
  production static storage serves: WhiteNoise's pre-compressed copy, Brotli when the tree pins the Brotli
  package (``br`` is accepted by every current browser), gzip otherwise (WhiteNoise's own compressors).

The baseline is ``git archive <ref>`` of the same repository (``main`` by default) measured the same way in the
same run. HTTP headers, images and fonts are not counted (code pages have none of the latter two).
Targets (issue 18): at most 150 KB uncompressed and 50 KB transferred.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from bench._common import append_to_docs, prepare_codes  # noqa: E402

PAGES = ["/codes/27447/", "/codes/99214/", "/codes/71046/"]
ASSET = re.compile(r'<link rel="stylesheet" href="([^"]+)"|<script src="([^"]+)"')


def _static_bytes(url: str) -> bytes:
    from django.contrib.staticfiles import finders  # Django only once measure() has set the tree up

    name = url.split("/static/", 1)[1].split("?", 1)[0]
    path = finders.find(name)
    if path is None:
        raise SystemExit(f"static file not found: {name}")
    return Path(path).read_bytes()


def _compressed_size(data: bytes, encoding: str) -> int:
    """What WhiteNoise's CompressedManifestStaticFilesStorage writes beside the file (its compressors)."""
    from whitenoise.compress import Compressor  # the measured tree's environment, in the child process

    c = Compressor(quiet=True)
    if encoding == "br":
        return len(c.compress_brotli(data))
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as fh:
        fh.write(data)
    return len(buf.getvalue())


def measure(tree: Path, encoding: str) -> dict:
    """Run inside the child: this tree's code against the prepared database."""
    sys.path.insert(0, str(tree))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rvuedge.settings")
    import django  # after this tree is first on sys.path, so its rvuedge is the one measured

    django.setup()
    from django.test import Client  # needs the settings of django.setup()

    import rvuedge

    assert Path(rvuedge.__file__).resolve().is_relative_to(tree.resolve()), rvuedge.__file__
    client = Client(HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    out = {}
    for path in PAGES:
        r = client.get(path)
        assert r.status_code == 200, (path, r.status_code)
        sent = r.content
        enc = r.get("Content-Encoding", "")
        html = gzip.decompress(sent) if enc == "gzip" else sent
        assets = []
        for css, js in ASSET.findall(html.decode()):
            url = css or js
            data = _static_bytes(url)
            assets.append({"url": url, "bytes": len(data), "sent": _compressed_size(data, encoding)})
        out[path] = {"html": len(html), "html_sent": len(sent), "html_encoding": enc or "none",
                     "assets": assets, "static_encoding": encoding}
    return out


def run_child(tree: Path, data_dir: str) -> dict:
    encoding = "br" if "Brotli==" in (tree / "pyproject.toml").read_text() else "gzip"
    env = dict(os.environ, RVUEDGE_DATA_DIR=data_dir, DJANGO_SETTINGS_MODULE="rvuedge.settings",
               PYTHONPATH=str(tree))
    env.pop("DATABASE_URL", None)
    code = (f"import json, sys; from pathlib import Path; sys.path.insert(0, {str(ROOT)!r}); "
            "from bench.page_weight import measure; "
            f"print('RESULT' + json.dumps(measure(Path({str(tree)!r}), {encoding!r})))")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, cwd=tree)
    if proc.returncode:
        raise SystemExit(f"measuring {tree} failed:\n{proc.stderr[-3000:]}")
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])


def kb(n: int) -> str:
    return f"{n / 1024:,.1f} KB"


def table(results: dict[str, dict]) -> str:
    lines = ["| Tree | Page | HTML | CSS+JS | Total uncompressed | HTML sent | CSS+JS sent | Total transferred |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    for tree, pages in results.items():
        for path, m in pages.items():
            assets = sum(a["bytes"] for a in m["assets"])
            assets_sent = sum(a["sent"] for a in m["assets"])
            lines.append(f"| {tree} | `{path}` | {kb(m['html'])} | {kb(assets)} | **{kb(m['html'] + assets)}** | "
                         f"{kb(m['html_sent'])} ({m['html_encoding']}) | {kb(assets_sent)} ({m['static_encoding']}) | "
                         f"**{kb(m['html_sent'] + assets_sent)}** |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--data-dir", help="reuse this RVUEDGE_DATA_DIR (default: a new temporary one)")
    ap.add_argument("--baseline", default="main", help="git ref measured the same way as the baseline")
    ap.add_argument("--write", action="store_true", help="append the table to docs/benchmarks.md")
    args = ap.parse_args()
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="rvuedge-weight-")
    prepare_codes(data_dir, None)  # the search benchmark's data set; it sets RVUEDGE_DATA_DIR before Django starts
    with tempfile.TemporaryDirectory(prefix="rvuedge-baseline-") as base:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", args.baseline],
                                 capture_output=True, check=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(base, filter="data")
        results = {args.baseline: run_child(Path(base), data_dir), "this branch": run_child(ROOT, data_dir)}
    for tree, pages in results.items():
        for path, m in pages.items():
            print(f"{tree:12} {path:16} assets: " + ", ".join(
                f"{a['url'].rsplit('/', 1)[1]} {kb(a['bytes'])}/{kb(a['sent'])}" for a in m["assets"]))
    text = table(results)
    print(text)
    if args.write:
        append_to_docs("## Issue 18: code page weight and Lighthouse", "Code page first visit, HTML+CSS+JS bytes",
                       "python bench/page_weight.py --write",
                       text + "\n\nTransferred: the HTML as the app compresses it (gzip by PublicGZipMiddleware on "
                       "this branch; not compressed on the baseline) plus the static files at the size of the "
                       "production storage's pre-compressed copy (Brotli when the tree pins Brotli, else gzip). "
                       "Targets: ≤ 150 KB uncompressed, ≤ 50 KB transferred. HTTP headers not counted.")


if __name__ == "__main__":
    main()
