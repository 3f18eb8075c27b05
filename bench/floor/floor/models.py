"""The floor's own two tables, and read-only views of four portal tables.

``ListedIndicator`` is the 100-row list of the DRF floor (fields resembling an
indicator); ``InsertedRow`` takes the one-row INSERT of the write floor. The
``Portal*`` models are unmanaged: they read the portal's tables for the
live-annotation chapter page and never create or alter them.
"""

from django.db import models


class ListedIndicator(models.Model):
    code = models.SlugField(max_length=60)
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=30, blank=True)
    year = models.PositiveSmallIntegerField()
    value = models.DecimalField(max_digits=16, decimal_places=4)
    direction = models.CharField(max_length=10)

    def __str__(self) -> str:
        return self.code


class InsertedRow(models.Model):
    target_type = models.CharField(max_length=10)
    target_id = models.PositiveIntegerField()
    score = models.PositiveSmallIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return f"{self.target_type} {self.target_id}: {self.score}"


class PortalChapter(models.Model):
    number = models.PositiveSmallIntegerField()
    slug = models.SlugField(max_length=60)
    title = models.CharField(max_length=200)

    class Meta:
        managed = False
        db_table = "indicators_chapter"

    def __str__(self) -> str:
        return self.title


class PortalIndicator(models.Model):
    chapter = models.ForeignKey(PortalChapter, on_delete=models.DO_NOTHING, related_name="indicators")
    code = models.SlugField(max_length=60)
    name = models.CharField(max_length=200)
    unit = models.CharField(max_length=30)
    status = models.CharField(max_length=20)
    order = models.PositiveIntegerField()

    class Meta:
        managed = False
        db_table = "indicators_indicator"

    def __str__(self) -> str:
        return self.name


class PortalStory(models.Model):
    chapter = models.ForeignKey(PortalChapter, on_delete=models.DO_NOTHING, null=True, related_name="stories")
    slug = models.SlugField(max_length=100)
    title = models.CharField(max_length=200)
    status = models.CharField(max_length=20)
    order = models.PositiveIntegerField()

    class Meta:
        managed = False
        db_table = "indicators_story"

    def __str__(self) -> str:
        return self.title


class PortalRating(models.Model):
    indicator = models.ForeignKey(
        PortalIndicator, on_delete=models.DO_NOTHING, null=True, related_name="ratings"
    )
    story = models.ForeignKey(PortalStory, on_delete=models.DO_NOTHING, null=True, related_name="ratings")
    score = models.PositiveSmallIntegerField()
    trust = models.CharField(max_length=10)

    class Meta:
        managed = False
        db_table = "feedback_rating"

    def __str__(self) -> str:
        return str(self.score)
