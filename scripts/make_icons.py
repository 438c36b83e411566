"""Draw the app icons (rvuedge/static/icons/) with Pillow: run once when the design changes, commit the PNGs.

    .venv/bin/python scripts/make_icons.py

The mark is three rising bars (work RVUs adding up) in white on the brand green. ``icon-*.png`` are rounded
squares on a transparent ground (purpose "any"); ``maskable-512.png`` fills the square edge to edge with the
bars inside the central 80% safe zone, as maskable icons must; ``favicon.ico`` holds 16, 32 and 48 px.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageDraw

OUT = Path(__file__).resolve().parents[1] / "rvuedge" / "static" / "icons"
GREEN = (11, 110, 79, 255)
WHITE = (255, 255, 255, 255)


def mark(size: int, *, maskable: bool) -> Image.Image:
    scale = 4  # draw large, then downsample: smooth edges
    s = size * scale
    img = Image.new("RGBA", (s, s), (0, 0, 0, 0))
    d = ImageDraw.Draw(img)
    if maskable:
        d.rectangle((0, 0, s, s), fill=GREEN)
        box = (s * 0.25, s * 0.25, s * 0.75, s * 0.75)  # well inside the 80% safe circle
    else:
        d.rounded_rectangle((0, 0, s - 1, s - 1), radius=s * 0.22, fill=GREEN)
        box = (s * 0.2, s * 0.2, s * 0.8, s * 0.8)
    x0, y0, x1, y1 = box
    w = (x1 - x0) / 3
    gap = w * 0.22
    for i, height in enumerate((0.45, 0.7, 1.0)):
        left = x0 + i * w + gap / 2
        d.rounded_rectangle((left, y1 - (y1 - y0) * height, left + w - gap, y1), radius=w * 0.15, fill=WHITE)
    return img.resize((size, size), Image.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for size in (192, 512):
        mark(size, maskable=False).save(OUT / f"icon-{size}.png", optimize=True)
    mark(512, maskable=True).save(OUT / "maskable-512.png", optimize=True)
    mark(180, maskable=True).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)
    mark(48, maskable=False).save(OUT / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48)])
    for p in sorted(OUT.iterdir()):
        print(f"{p.name}: {p.stat().st_size:,} bytes")


if __name__ == "__main__":
    main()
