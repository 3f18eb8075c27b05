"""Uploaded photos go through Django's storage API, to disk or to an S3-compatible store.

With ``S3_BUCKET`` set the settings choose django-storages' S3 backend; these tests
run it against a real S3 server on loopback (moto's server mode, ``tests/s3_server``),
reading the settings from the environment exactly as a deployed process does. A staff
upload in the admin must land in the bucket, the story page and the API must link to
the bucket's URL, and that URL must serve the uploaded bytes. Files no photo refers to
any more (deleted, replaced) are removed by ``photo_files_prune``, on S3 and on disk.
"""

import io
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from indicators import services, tasks
from indicators.models import Photo
from tests.s3_server import ACCESS_KEY, REGION, SECRET_KEY, LocalS3Server, S3ServerError

ROOT = Path(__file__).resolve().parents[2]
ADD_URL = reverse("admin:indicators_photo_add")

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def s3_server(tmp_path_factory) -> LocalS3Server:
    try:
        server = LocalS3Server(tmp_path_factory.mktemp("s3") / "moto.log")
        server.start()
    except S3ServerError as error:
        pytest.fail(f"The photo-storage tests need a local S3 server: {error}", pytrace=False)
    yield server
    server.stop()


def _storages_from_environment(**cases: dict[str, str]) -> dict[str, dict]:
    """``settings.STORAGES`` as a fresh process builds it with each case's variables set (and
    no other ``S3_`` variable), all read by one process (tests/settings_probe.py)."""
    unset = {name: None for name in os.environ if name.startswith("S3_")}
    probed = {name: {"environment": {**unset, **env}, "check": False} for name, env in cases.items()}
    done = subprocess.run(  # noqa: S603 - our own interpreter reading our own settings
        [sys.executable, "-m", "tests.settings_probe"],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "portal.settings"},
        input=json.dumps(probed),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    results = json.loads(done.stdout)
    assert all("settings" in result for result in results.values()), results
    return {name: result["settings"]["STORAGES"] for name, result in results.items()}


@pytest.fixture(scope="module")
def storages(s3_server) -> dict[str, dict]:
    return _storages_from_environment(
        defaults={},
        deployed={
            "S3_BUCKET": "portal-photos",
            "S3_ENDPOINT_URL": "https://oss-cn-beijing.aliyuncs.com",
            "S3_ACCESS_KEY_ID": "key-id",
            "S3_SECRET_ACCESS_KEY": "key-secret",
            "S3_REGION": "cn-beijing",
            "S3_CUSTOM_DOMAIN": "photos.example.cn",
            "S3_ADDRESSING_STYLE": "virtual",
        },
        # A process configured for the local server by its S3_* variables.
        local={
            "S3_BUCKET": "from-the-environment",
            "S3_ENDPOINT_URL": s3_server.endpoint_url,
            "S3_ACCESS_KEY_ID": ACCESS_KEY,
            "S3_SECRET_ACCESS_KEY": SECRET_KEY,
            "S3_REGION": REGION,
        },
    )


@pytest.fixture(scope="module")
def s3_default_storage(storages) -> dict:
    """``STORAGES["default"]`` of a process configured for the local server by its S3_* variables."""
    return storages["local"]["default"]


@pytest.fixture
def bucket(s3_server, s3_default_storage, settings) -> str:
    """A fresh bucket of the local server, and the site's default storage pointing at it.

    Changing ``STORAGES`` makes Django drop its cached storages (the ``setting_changed``
    handler of django.test.signals), so ``Photo.image`` uses the bucket from here on.
    """
    name = f"photos-{uuid.uuid4().hex[:12]}"
    client = s3_server.client()
    client.create_bucket(Bucket=name)
    # What the README asks of operators: objects readable by anyone, as the photos are.
    client.put_bucket_policy(Bucket=name, Policy=json.dumps(public_read_policy(name)))
    default = {**s3_default_storage, "OPTIONS": {**s3_default_storage["OPTIONS"], "bucket_name": name}}
    settings.STORAGES = {**settings.STORAGES, "default": default}
    return name


def public_read_policy(bucket: str) -> dict:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{bucket}/*",
            }
        ],
    }


def _png(color: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), color).save(buffer, format="PNG")
    return buffer.getvalue()


def _upload(staff, story, content: bytes, *, name: str = "hutong.png", caption: str = "胡同的夜景"):
    """A photo added by staff through the real admin form."""
    response = staff.post(
        ADD_URL,
        {
            "story": story.pk,
            "caption": caption,
            "caption_en": "",
            "credit": "北京市东城区 / 供",
            "image": SimpleUploadedFile(name, content, content_type="image/png"),
            "alt_text": "夜色中的胡同",
            "order": "1",
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    return Photo.objects.get(story=story, caption=caption)


def _fetch(url: str) -> tuple[bytes, str]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - the local S3 server
        return response.read(), response.headers["Content-Type"]


def _bucket_keys(s3_server, bucket: str) -> list[str]:
    listing = s3_server.client().list_objects_v2(Bucket=bucket)
    return sorted(item["Key"] for item in listing.get("Contents", []))


def test_the_environment_chooses_the_storage(storages):
    defaults = storages["defaults"]["default"]
    s3 = storages["deployed"]["default"]

    assert defaults == {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    assert s3["BACKEND"] == "storages.backends.s3.S3Storage"
    assert s3["OPTIONS"] == {
        "bucket_name": "portal-photos",
        "endpoint_url": "https://oss-cn-beijing.aliyuncs.com",
        "access_key": "key-id",
        "secret_key": "key-secret",
        "region_name": "cn-beijing",
        "custom_domain": "photos.example.cn",
        "addressing_style": "virtual",
        # Public photos get plain, cacheable URLs; uploads never overwrite each other.
        "querystring_auth": False,
        "file_overwrite": False,
    }


def test_a_staff_upload_lands_in_the_bucket_and_the_story_links_to_it(
    staff, client, story, bucket, s3_server
):
    content = _png()

    photo = _upload(staff, story, content)

    [key] = _bucket_keys(s3_server, bucket)
    assert key == photo.image.name
    assert re.fullmatch(r"photos/\d{4}/hutong[^/]*\.png", key)
    stored = s3_server.client().get_object(Bucket=bucket, Key=key)
    assert stored["Body"].read() == content

    page = client.get(story.get_absolute_url()).content.decode()
    [src] = re.findall(r'<img src="([^"]+)" alt="夜色中的胡同"', page)
    assert src.startswith(f"{s3_server.endpoint_url}/"), src
    assert "X-Amz-Signature" not in src  # a plain URL that pages and a CDN can cache
    assert _fetch(src.replace("&amp;", "&")) == (content, "image/png")

    api = client.get(f"/api/v1/stories/{story.edition.year}/{story.slug}/").json()
    assert [p["image"] for p in api["photos"]] == [src.replace("&amp;", "&")]


def test_two_uploads_with_the_same_name_keep_both_images(staff, story, bucket, s3_server):
    first = _upload(staff, story, _png((10, 10, 10)), name="IMG_0001.png", caption="一")
    second = _upload(staff, story, _png((250, 250, 250)), name="IMG_0001.png", caption="二")

    assert first.image.name != second.image.name
    assert _bucket_keys(s3_server, bucket) == sorted([first.image.name, second.image.name])
    assert _fetch(second.image.url)[0] == _png((250, 250, 250))
    assert _fetch(first.image.url)[0] == _png((10, 10, 10))


def test_a_deleted_photo_loses_its_file_at_the_next_prune(staff, story, bucket, s3_server):
    kept = _upload(staff, story, _png((0, 120, 0)), caption="留下")
    gone = _upload(staff, story, _png((0, 0, 120)), caption="删除")
    gone_url = gone.image.url

    response = staff.post(reverse("admin:indicators_photo_delete", args=[gone.pk]), {"post": "yes"})
    assert response.status_code == 302
    # Django never removes the file of a deleted row; the prune does.
    assert gone.image.name in _bucket_keys(s3_server, bucket)

    removed = services.photo_files_prune(older_than=timedelta(0))

    assert removed == [gone.image.name]
    assert _bucket_keys(s3_server, bucket) == [kept.image.name]
    with pytest.raises(urllib.error.HTTPError) as missing:
        _fetch(gone_url)
    assert missing.value.code == 404
    assert _fetch(kept.image.url)[0] == _png((0, 120, 0))


def test_the_prune_keeps_a_fresh_upload_whose_row_may_not_be_committed_yet(bucket, s3_server):
    name = default_storage.save("photos/2026/in-flight.png", io.BytesIO(_png()))

    assert services.photo_files_prune() == []
    assert _bucket_keys(s3_server, bucket) == [name]


# --- The filesystem default ---------------------------------------------------------------------


def _age(path: Path, *, hours: float) -> None:
    then = time.time() - hours * 3600
    os.utime(path, (then, then))


def test_on_disk_a_replaced_image_is_removed_by_the_hourly_task(staff, client, story, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    photo = _upload(staff, story, _png((1, 2, 3)), name="old.png")
    old = tmp_path / photo.image.name
    assert old.read_bytes() == _png((1, 2, 3))

    response = staff.post(
        reverse("admin:indicators_photo_change", args=[photo.pk]),
        {
            "story": story.pk,
            "caption": photo.caption,
            "caption_en": "",
            "credit": photo.credit,
            "image": SimpleUploadedFile("new.png", _png((4, 5, 6)), content_type="image/png"),
            "alt_text": photo.alt_text,
            "order": "1",
        },
    )
    assert response.status_code == 302
    photo.refresh_from_db()
    new = tmp_path / photo.image.name
    stray = new.parent / "just-uploaded.png"
    stray.write_bytes(_png())
    _age(old, hours=2)
    _age(new, hours=2)

    assert tasks.photo_files_prune.apply().get() == 1

    assert not old.exists()
    assert new.read_bytes() == _png((4, 5, 6))
    assert stray.exists()  # younger than an hour: its row may still be on its way
    page = client.get(story.get_absolute_url()).content.decode()
    assert f'<img src="/media/{photo.image.name}"' in page


def test_the_prune_on_an_empty_media_folder_does_nothing(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "never-written"

    assert services.photo_files_prune(older_than=timedelta(0)) == []
