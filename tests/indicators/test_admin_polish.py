"""The admin as staff meet it: the portal's name, its own apps first, Chinese throughout.

What used to show: "Django 管理" as the header, the django-axes section in
English (Axes, Access attempts …) above the report, an English two-box
district picker in the planner form, English permission names, export field
labels like "Edition (报告年度)", and django-import-export's typo
"某些行验数据证失败".
"""

import re
from pathlib import Path

import django
import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import Group, Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from feedback.models import AggregateScope, ScoreAggregate
from indicators.models import District, Indicator, Story
from tests.factories import IndicatorFactory, StoryFactory

pytestmark = pytest.mark.django_db

PORTAL_ADMIN = "北京城市总体规划实施体检 · 公众参与平台 管理"
ADMIN_JS = Path(django.__file__).parent / "contrib" / "admin" / "static" / "admin" / "js"


def _captions(html: str) -> list[str]:
    """The app headings of the admin index, in page order."""
    return re.findall(r'<caption>\s*<a [^>]*class="section"[^>]*>([^<]+)</a>', html)


def _model_links(html: str) -> list[str]:
    return re.findall(r'<th scope="row" id="[a-z_]+-[a-z_]+">\s*<a href="[^"]+">([^<]+)</a>', html)


def test_admin_is_branded_for_the_portal(staff):
    html = staff.get(reverse("admin:index")).content.decode()

    assert f'<a href="/admin/">{PORTAL_ADMIN}</a>' in html
    title = re.search(r"<title>(.*?)</title>", html).group(1)
    assert title == "管理首页 | 公众参与平台管理"
    assert "Django" not in html.replace("django", "")


def test_the_report_comes_first_and_login_protection_last(staff):
    html = staff.get(reverse("admin:index")).content.decode()

    assert _captions(html) == ["体检报告", "市民参与", "责任规划师工作台", "认证和授权", "登录保护"]


def test_no_english_app_or_model_heading_on_the_index(staff):
    html = staff.get(reverse("admin:index")).content.decode()

    headings = _captions(html) + _model_links(html)
    assert len(headings) > 20
    assert [h for h in headings if re.search("[A-Za-z]", h)] == []
    assert {"访问尝试", "访问失败", "访问记录"} <= set(headings)
    # The table's hidden column headings are read out by screen readers.
    for english in ("Axes", "Access attempts", "Access failures", "Model name", "Add link"):
        assert english not in html


def test_login_records_are_listed_in_chinese(staff):
    AccessAttempt.objects.create(
        username="someone",
        ip_address="192.0.2.1",
        user_agent="Mozilla/5.0",
        http_accept="text/html",
        path_info="/admin/login/",
        get_data="",
        post_data="",
        failures_since_start=2,
    )

    html = staff.get(reverse("admin:axes_accessattempt_changelist")).content.decode()

    assert "选择 访问尝试 来修改" in html
    for heading in ("尝试时间", "IP 地址", "用户名", "路径", "已锁定"):
        assert heading in html
    for english in ("Attempt Time", "Locked Out", "access attempt", 'alt="Search"'):
        assert english not in html
    assert 'alt="搜索"' in html


def test_the_two_box_picker_of_the_planner_form_speaks_chinese(staff):
    """Every label of the districts/streets picker (SelectFilter2.js) has a Chinese translation."""
    form = staff.get(reverse("admin:review_plannerprofile_add")).content.decode()
    assert 'class="selectfilter"' in form and 'data-field-name="负责的行政区"' in form
    catalogue = staff.get("/admin/jsi18n/").content.decode()

    source = (ADMIN_JS / "SelectFilter2.js").read_text(encoding="utf-8")
    labels = set(re.findall(r"""gettext\((['"])(.+?)\1\)""", source))
    assert len(labels) >= 10
    untranslated = []
    for _quote, msgid in labels:
        key = msgid.replace('"', '\\"')
        entry = re.search(rf'^\s*"{re.escape(key)}": "([^"]*)"', catalogue, re.MULTILINE)
        translation = entry.group(1).encode().decode("unicode_escape") if entry else ""
        if not re.search(r"[\u4e00-\u9fff]", translation):
            untranslated.append(msgid)
    assert untranslated == []


def test_permissions_are_named_in_chinese(staff):
    html = staff.get(reverse("admin:auth_group_add")).content.decode()

    assert "体检报告 | 指标 | 可修改" in html
    assert "登录保护 | 访问尝试 | 可查看" in html
    assert "Can add" not in html and "Can view" not in html


def test_a_group_saved_with_chinese_labels_keeps_its_permissions(staff):
    wanted = Permission.objects.filter(codename__in=["change_indicator", "view_story"])
    response = staff.post(
        reverse("admin:auth_group_add"), {"name": "编辑", "permissions": [p.pk for p in wanted]}
    )

    assert response.status_code == 302
    assert set(Group.objects.get(name="编辑").permissions.all()) == set(wanted)


def test_export_page_lists_the_columns_by_their_chinese_headers(staff, indicator):
    html = staff.get(reverse("admin:indicators_indicator_export")).content.decode()

    labels = re.findall(r'<label for="id_indicatorvalueresource_[a-z_]+"[^>]*>([^<]+)</label>', html)
    assert labels[:4] == ["报告年度", "指标编码", "章", "节"]
    assert [label for label in labels if re.search("[A-Za-z]", label)] == []
    assert "全选" in html and "Select all" not in html


def test_a_failed_import_says_so_without_the_typo(staff, indicator):
    upload = SimpleUploadedFile(
        "bad.csv", "报告年度,指标编码,年份,月份,数值\n2023,x,二〇二三,,1\n".encode(), content_type="text/csv"
    )

    html = staff.post(
        reverse("admin:indicators_indicator_import"), {"format": "0", "resource": "0", "import_file": upload}
    ).content.decode()

    assert "某些行数据验证失败" in html
    assert "某些行验数据证失败" not in html


# --- Aggregates by their item -------------------------------------------------------------------


def _aggregates_of(*targets) -> None:
    scopes = {
        Indicator: AggregateScope.INDICATOR,
        Story: AggregateScope.STORY,
        District: AggregateScope.DISTRICT,
    }
    for target in targets:
        ScoreAggregate.objects.create(scope=scopes[type(target)], object_id=target.pk, count=12, raters=12)


def test_aggregates_are_listed_by_their_item_and_chapter(staff, chapter, districts):
    forest = IndicatorFactory(chapter=chapter, name="森林覆盖率")
    alley = StoryFactory(chapter=chapter, title="史家胡同")
    _aggregates_of(forest, alley, districts[0])
    ScoreAggregate.objects.create(scope=AggregateScope.INDICATOR, object_id=999999, count=1)

    html = staff.get(reverse("admin:feedback_scoreaggregate_changelist")).content.decode()

    assert "森林覆盖率" in html and "史家胡同" in html and districts[0].name in html
    assert f"2023 年度 · {chapter}" in html
    assert "已删除（编号 999999）" in html
    assert "对象编号" not in html


def test_the_aggregate_list_costs_the_same_queries_for_3_or_30_rows(staff, chapter, districts):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert staff.get(reverse("admin:feedback_scoreaggregate_changelist")).status_code == 200
        return len(captured)

    _aggregates_of(IndicatorFactory(chapter=chapter), StoryFactory(chapter=chapter), districts[0])
    few = queries()
    _aggregates_of(*(IndicatorFactory(chapter=chapter) for _ in range(15)))
    _aggregates_of(*(StoryFactory(chapter=chapter) for _ in range(10)), *districts[1:])

    assert queries() == few


def test_an_aggregate_names_its_item(staff, chapter):
    forest = IndicatorFactory(chapter=chapter, name="森林覆盖率")
    _aggregates_of(forest)
    aggregate = ScoreAggregate.objects.get()

    html = staff.get(reverse("admin:feedback_scoreaggregate_change", args=[aggregate.pk])).content.decode()

    assert "<title>指标：森林覆盖率 | 查看 评分汇总 | 公众参与平台管理</title>" in html
    assert str(aggregate) == f"指标：#{forest.pk}", "without a label, no query: the number"
