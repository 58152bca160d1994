"""Draw Ponder's app icons (static/icons/) from the logo: the favicon in templates/base.html.

    .venv/bin/python scripts/make_icons.py

The logo is a rounded square with a violet diagonal gradient and two white dots, on a
32-unit grid. This script holds that geometry once, writes it as ponder.svg, and paints
the PNGs with Pillow (4x supersampled, then scaled down):

- ponder-192.png, ponder-512.png: the rounded square on transparency ("any" purpose);
- ponder-maskable-512.png: full bleed, for launchers that cut their own shape (the dots
  already sit inside the 80 % safe circle);
- apple-touch-icon.png (180): full bleed and opaque, as iOS rounds the corners itself.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image, ImageChops, ImageDraw

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "static" / "icons"

GRID = 32
CORNER = 9
GRADIENT_FROM, GRADIENT_TO, GRADIENT_STOP = "#9b8cff", "#5b4fe0", 0.7  # top left to bottom right
DOTS = [(12, 13, 4.5, 255), (20.5, 20, 3, 191)]  # x, y, radius, white's opacity
SUPERSAMPLE = 4

SVG = f"""<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {GRID} {GRID}">
  <defs>
    <linearGradient id="g" x1="0" y1="0" x2="1" y2="1">
      <stop offset="0" stop-color="{GRADIENT_FROM}"/>
      <stop offset="{GRADIENT_STOP}" stop-color="{GRADIENT_TO}"/>
    </linearGradient>
  </defs>
  <rect width="{GRID}" height="{GRID}" rx="{CORNER}" fill="url(#g)"/>
  <circle cx="{DOTS[0][0]}" cy="{DOTS[0][1]}" r="{DOTS[0][2]}" fill="#fff"/>
  <circle cx="{DOTS[1][0]}" cy="{DOTS[1][1]}" r="{DOTS[1][2]}" fill="#fff" fill-opacity=".75"/>
</svg>
"""


def gradient(size: int) -> Image.Image:
    """The diagonal gradient: its position is (x + y) / 2, flat after the last stop."""
    down = Image.linear_gradient("L").resize((size, size))
    across = down.transpose(Image.Transpose.ROTATE_90)
    position = ImageChops.add(down, across, scale=2.0)
    mask = position.point(lambda value: min(255, round(value / GRADIENT_STOP)))
    start = Image.new("RGBA", (size, size), GRADIENT_FROM)
    end = Image.new("RGBA", (size, size), GRADIENT_TO)
    return Image.composite(end, start, mask)


def paint(size: int, *, rounded: bool) -> Image.Image:
    big = size * SUPERSAMPLE
    unit = big / GRID
    image = gradient(big)
    dots = Image.new("RGBA", (big, big), (255, 255, 255, 0))
    draw = ImageDraw.Draw(dots)
    for x, y, radius, alpha in DOTS:
        box = [(x - radius) * unit, (y - radius) * unit, (x + radius) * unit, (y + radius) * unit]
        draw.ellipse(box, fill=(255, 255, 255, alpha))
    image = Image.alpha_composite(image, dots)
    if rounded:
        shape = Image.new("L", (big, big), 0)
        ImageDraw.Draw(shape).rounded_rectangle([0, 0, big - 1, big - 1], CORNER * unit, fill=255)
        image.putalpha(shape)
    return image.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "ponder.svg").write_text(SVG)
    for size in (192, 512):
        paint(size, rounded=True).save(OUT / f"ponder-{size}.png", optimize=True)
    paint(512, rounded=False).save(OUT / "ponder-maskable-512.png", optimize=True)
    paint(180, rounded=False).convert("RGB").save(OUT / "apple-touch-icon.png", optimize=True)
    print(f"wrote {', '.join(sorted(p.name for p in OUT.iterdir()))} in {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
