"""Draws the site's icons and its share card into static/ (run by hand; the files are committed).

    .venv/bin/python tools/site_icons.py

The mark is static/favicon.svg's: three rising white bars (the report's figures)
on the header's red. The share card (Open Graph ``og:image``) sets the site's
name in Noto Sans CJK (SIL Open Font License), Debian's fonts-noto-cjk.
"""

from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

STATIC = Path(__file__).resolve().parent.parent / "static"
RED = (138, 34, 22)  # --accent-dark in static/css/site.css
WHITE = (255, 255, 255)
FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc"
# The bars of favicon.svg on its 64-unit grid: (x, y, width, height).
BARS = ((12, 34, 10, 18), (27, 24, 10, 28), (42, 12, 10, 40))


def mark(size: int, *, rounded: bool = True) -> Image.Image:
    """The mark at ``size`` pixels, drawn large and scaled down for clean edges."""
    big = size * 8
    unit = big / 64
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=12 * unit if rounded else 0, fill=RED)
    for x, y, w, h in BARS:
        draw.rounded_rectangle(
            (x * unit, y * unit, (x + w) * unit, (y + h) * unit), radius=2 * unit, fill=WHITE
        )
    return image.resize((size, size), Image.Resampling.LANCZOS)


def share_card() -> Image.Image:
    """1200×630, the size WeChat, Weibo and Open Graph readers expect."""
    card = Image.new("RGB", (1200, 630), RED)
    card.paste(mark(240, rounded=True), (96, 195), mark(240))
    draw = ImageDraw.Draw(card)
    draw.text((390, 215), "北京城市体检", font=ImageFont.truetype(FONT, 96), fill=WHITE)
    draw.text((394, 345), "总体规划实施体检 · 公众参与", font=ImageFont.truetype(FONT, 44), fill=WHITE)
    return card


def main() -> None:
    mark(64).save(STATIC / "favicon.ico", sizes=[(16, 16), (32, 32), (48, 48), (64, 64)])
    # iOS and WeChat's "add to home screen": a full square, the system rounds it.
    mark(180, rounded=False).convert("RGB").save(STATIC / "img" / "apple-touch-icon.png", optimize=True)
    share_card().save(STATIC / "img" / "share-card.png", optimize=True)


if __name__ == "__main__":
    main()
