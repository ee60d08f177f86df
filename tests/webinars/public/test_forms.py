"""The public forms: the guest's name and the open-lessons filter."""

import pytest
from django.core.exceptions import ValidationError
from rest_framework.exceptions import ValidationError as ApiValidationError

from tests.factories import make_subject
from webinars.public.forms import GuestJoinForm, LessonFilterForm

pytestmark = pytest.mark.django_db


def test_a_signed_in_visitor_joins_under_their_own_name():
    assert "display_name" in GuestJoinForm().fields
    assert "display_name" not in GuestJoinForm(signed_in=True).fields


@pytest.mark.parametrize(
    "refusal",
    [
        ValidationError({"display_name": ["No control characters, please."]}),
        ValidationError("No control characters, please."),
        ApiValidationError({"display_name": ["No control characters, please."]}),
        ApiValidationError(["No control characters, please."]),
    ],
)
def test_the_services_refusal_of_a_name_shows_next_to_the_field(refusal):
    form = GuestJoinForm({"display_name": "Evil\u202ename"})
    assert form.is_valid()

    form.add_join_errors(refusal)

    assert form.errors == {"display_name": ["No control characters, please."]}


def test_a_signed_in_visitors_refusal_is_a_form_error():
    form = GuestJoinForm({}, signed_in=True)
    assert form.is_valid()

    form.add_join_errors(ValidationError("Not now."))

    assert form.non_field_errors() == ["Not now."]


def test_the_filter_offers_the_given_subjects_and_cleans_to_one_of_them():
    maths, art = make_subject("Maths", "MA"), make_subject("Art", "AR")

    form = LessonFilterForm({"subject": str(art.pk), "day": "2026-09-01"}, subjects=[maths, art])

    assert form.is_valid()
    assert form.cleaned_data["subject"] == art
    assert str(form.cleaned_data["day"]) == "2026-09-01"
    labels = [label for _value, label in form.fields["subject"].choices]
    assert labels == ["All subjects", "Maths", "Art"]


def test_an_unknown_subject_or_a_bad_day_is_named_in_words():
    form = LessonFilterForm({"subject": "999", "day": "01/09/2026"}, subjects=[])

    assert not form.is_valid()
    assert form.errors == {
        "subject": ["Choose a subject from the list."],
        "day": ["Enter a date like 2026-09-01."],
    }
