"""The 100 rows of the DRF list floor, alike in shape to the portal's indicators."""

from decimal import Decimal

from django.db import migrations

NAMES = ["常住人口规模", "城乡建设用地", "绿色出行比例", "公园绿地500米服务半径覆盖率", "细颗粒物年均浓度"]


def add_rows(apps, schema_editor):
    ListedIndicator = apps.get_model("floor", "ListedIndicator")
    ListedIndicator.objects.bulk_create(
        ListedIndicator(
            code=f"floor-{i:03d}",
            name=f"{NAMES[i % len(NAMES)]}（{i}）",
            unit=["万人", "平方公里", "%", "%", "微克/立方米"][i % len(NAMES)],
            year=2023,
            value=Decimal(1000 + i * 7) / 4,
            direction=["up", "down", "flat"][i % 3],
        )
        for i in range(100)
    )


class Migration(migrations.Migration):
    dependencies = [("floor", "0001_initial")]

    operations = [migrations.RunPython(add_rows, migrations.RunPython.noop)]
