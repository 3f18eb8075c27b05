"""The satisfaction survey: loaded from the data file, one response per resident,
changeable until it closes, read-only after."""

from datetime import timedelta
from pathlib import Path

import pytest
import yaml
from django.core.management import call_command
from django.utils import timezone

from feedback import aggregates, submissions
from feedback.models import Survey, SurveyAnswer, SurveyQuestion, SurveyResponse
from review.models import ReviewCase
from tests.feedback.conftest import new_resident_client
from tests.feedback.helpers import API_SURVEY, api_post

pytestmark = pytest.mark.django_db

DATA_FILE = Path(__file__).resolve().parents[2] / "feedback" / "data" / "survey_2023.yaml"
REPORT_DIMENSIONS = {"人文环境", "公共交通", "公共活动设施", "应急安全", "积水防涝"}


def _form(survey, score: int, **remarks) -> dict:
    data = {f"question_{q.pk}": score for q in survey.questions.all()}
    for dimension, text in remarks.items():
        question = survey.questions.get(dimension=dimension)
        data[f"question_{question.pk}_comment"] = text
    return data


def test_load_survey_is_idempotent_and_updates_changed_text(edition, tmp_path, capsys):
    call_command("load_survey", str(DATA_FILE))
    survey = Survey.objects.get()
    dimensions = set(survey.questions.values_list("dimension", flat=True))
    assert dimensions >= REPORT_DIMENSIONS
    assert {"公园绿地", "住房保障", "养老服务", "12345 热线响应"} <= dimensions
    assert submissions.survey_is_open(survey, at=timezone.now())
    assert timezone.localtime(survey.opens_at).year == 2024
    assert timezone.localtime(survey.closes_at).year == 2027
    snapshot = list(SurveyQuestion.objects.order_by("pk").values())
    capsys.readouterr()

    call_command("load_survey", str(DATA_FILE))
    assert "0 rows written" in capsys.readouterr().out
    assert list(SurveyQuestion.objects.order_by("pk").values()) == snapshot

    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    data["survey"]["questions"][0]["text"] = "改过的题目？"
    changed = tmp_path / "survey.yaml"
    changed.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    call_command("load_survey", str(changed))
    assert SurveyQuestion.objects.get(dimension="人文环境").text == "改过的题目？"
    assert SurveyQuestion.objects.count() == len(snapshot)


def test_load_survey_new_only_keeps_staff_edits(edition, capsys):
    call_command("load_survey", str(DATA_FILE))
    SurveyQuestion.objects.filter(dimension="人文环境").update(text="工作人员改写的题目")

    call_command("load_survey", "--new-only", str(DATA_FILE))

    assert SurveyQuestion.objects.get(dimension="人文环境").text == "工作人员改写的题目"
    assert "not applied" in capsys.readouterr().out


def test_survey_page_answer_then_change_keeps_one_response(survey, districts):
    resident = new_resident_client()
    page = resident.get("/survey/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "积水防涝" in html and 'href="/privacy/"' in html
    assert 'type="radio"' in html

    first = resident.post(
        f"/survey/{survey.pk}/", {**_form(survey, 2, 积水防涝="雨后路口积水"), "district": districts[1].pk}
    )
    assert first.status_code == 302
    response = SurveyResponse.objects.get()
    assert response.district == districts[1]
    assert set(response.answers.values_list("score", flat=True)) == {2}
    # The free-text answer becomes a review case for the planners.
    assert ReviewCase.objects.filter(survey_answer__comment="雨后路口积水").exists()

    # The page is the same for everyone (it may come from the shared cache): the
    # resident's own answers come from /me/fragment/, which feedback/me.js puts in.
    again = resident.get(f"/survey/{survey.pk}/").content.decode()
    assert "雨后路口积水" not in again and "checked" not in again
    mine = resident.get(f"/me/fragment/?survey={survey.pk}").json()["survey"]
    assert "您已提交过答卷" in mine["notice"] and mine["button"] == "更新答卷"
    waterlogging = survey.questions.get(dimension="积水防涝").pk
    assert mine["fields"][f"question_{waterlogging}_comment"] == "雨后路口积水"
    assert mine["fields"][f"question_{waterlogging}"] == 2
    assert mine["fields"]["district"] == str(districts[1].pk)

    resident.post(f"/survey/{survey.pk}/", _form(survey, 5))
    assert SurveyResponse.objects.count() == 1
    assert set(SurveyAnswer.objects.values_list("score", flat=True)) == {5}
    assert SurveyAnswer.objects.count() == survey.questions.count()


def test_missing_answers_reshow_the_form(survey):
    resident = new_resident_client()
    data = _form(survey, 3)
    data.pop(next(iter(data)))
    response = resident.post(f"/survey/{survey.pk}/", data)
    assert response.status_code == 400
    assert "请为这一项打分" in response.content.decode()
    assert not SurveyResponse.objects.exists()


def test_after_closing_the_answers_are_read_only(survey):
    resident = new_resident_client()
    resident.post(f"/survey/{survey.pk}/", _form(survey, 4))
    survey.closes_at = timezone.now() - timedelta(minutes=1)
    survey.save()

    page = resident.get(f"/survey/{survey.pk}/").content.decode()
    assert "问卷已截止" in page
    assert "disabled" in page
    assert "提交答卷" not in page and "更新答卷" not in page

    response = resident.post(f"/survey/{survey.pk}/", _form(survey, 1), follow=True)
    assert "问卷已截止" in response.content.decode()
    assert set(SurveyAnswer.objects.values_list("score", flat=True)) == {4}


def test_the_api_submits_and_changes_a_response(survey):
    resident = new_resident_client()
    answers = [{"question": q.pk, "score": 3, "comment": ""} for q in survey.questions.all()]
    created = api_post(resident, API_SURVEY, {"survey": survey.pk, "answers": answers})
    assert created.status_code == 201
    assert [a["score"] for a in created.json()["answers"]] == [3, 3, 3]

    answers[0]["score"] = 1
    api_post(resident, API_SURVEY, {"survey": survey.pk, "answers": answers})
    assert SurveyResponse.objects.count() == 1
    assert sorted(SurveyAnswer.objects.values_list("score", flat=True)) == [1, 3, 3]


def test_survey_aggregates_per_question(client, survey):
    questions = list(survey.questions.all())
    for n, score in enumerate([1, 2, 3, 4, 5, 5]):
        api_post(
            new_resident_client(),
            API_SURVEY,
            {
                "survey": survey.pk,
                "answers": [{"question": q.pk, "score": score} for q in questions],
            },
        )
        assert SurveyResponse.objects.count() == n + 1
    aggregates.aggregates_reconcile()
    data = client.get(f"/api/v1/aggregates/surveys/{survey.pk}/").json()
    assert data["score"]["count"] == 18
    assert [q["dimension"] for q in data["questions"]] == ["公共交通", "积水防涝", "公园绿地"]
    assert data["questions"][0]["score"]["count"] == 6
    assert data["questions"][0]["score"]["mean"] == "3.333"
    assert data["questions"][0]["score"]["distribution"] == [1, 1, 1, 1, 2]
    page = client.get(f"/survey/{survey.pk}/").content.decode()
    assert "目前的调查结果" in page and "3.33" in page


def test_no_survey_page_when_none_is_published(client, db):
    response = client.get("/survey/")
    assert response.status_code == 200
    assert "没有正在进行的满意度调查" in response.content.decode()
