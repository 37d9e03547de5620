"""Explain a decision: the explanation and the enforcement agree over the whole access matrix.

The cases and expected answers are the access matrix's own (tests/access/test_policy_matrix.py).
For every cell:

* the explanation (`policy.QUESTIONS[…].ask`, what the admin's "Explain a decision" page asks)
  gives the very same `Decision` as the rule's predicate (allowed flag and reason), and the
  matrix's expected answer, with a non-empty reason;

and for every cell about an external user and a portal rule (the representative subset that can
be driven over HTTP):

* the admin page "Explain a decision" answers allowed/denied like the predicate, with its reason;
* the portal, requested as that user, does what the explanation says: shows the page (200) or
  not (404/403/sign-in), saves the reply, status or ticket or saves nothing.
"""

import re
from html import unescape

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from access import policy
from tests.access.test_policy_matrix import (
    AREA_PREDICATES,
    AREAS,
    CASES,
    CELLS,
    RULES,
    World,
    _area_user,
)
from tests.factories import AddressFactory, ExternalUserFactory, TicketFactory, UserFactory
from tickets.models import Message, Ticket

EXPLAIN_URL = reverse("admin:accounts_user_explain")


# ---------------------------------------------------------------------------------------------
# Every matrix rule is a question the explanation can ask, with the same predicate.

# matrix rule -> (question key, target -> the question's objects)
ASKED = {
    "see_address": ("see_address", lambda t: {"address": t}),
    "edit_address": ("edit_address", lambda t: {"address": t}),
    "add_contact": ("add_contact", lambda t: {"address": t}),
    "see_machine": ("see_machine", lambda t: {"machine": t}),
    "edit_machine": ("edit_machine", lambda t: {"machine": t}),
    "see_contact": ("see_contact", lambda t: {"contact": t}),
    "edit_contact": ("edit_contact", lambda t: {"contact": t}),
    "see_ticket": ("see_ticket", lambda t: {"ticket": t}),
    "reply": ("reply", lambda t: {"ticket": t}),
    "add_internal_note": ("add_internal_note", lambda t: {"ticket": t}),
    "see_message": ("see_message", lambda t: {"message": t}),
    "set_status": ("set_status", lambda t: {"ticket": t[0], "status": t[1]}),
    "file_ticket": ("file_ticket", lambda t: {k: v for k, v in t.items() if v is not None}),
    "can_file": ("file_any", lambda t: {}),
    "work_on_ticket": ("work_on_ticket", lambda t: {"ticket": t["ticket"]}),
    "take": ("take", lambda t: {"ticket": t["ticket"]}),
    "forward_to_team": ("forward", lambda t: {"ticket": t["ticket"], "team": t["team"]}),
    "forward_to_user": (
        "forward",
        lambda t: {"ticket": t["ticket"], "recipient": t["recipient"]},
    ),
    "change_fields": ("change_fields", lambda t: {"ticket": t["ticket"]}),
    "change_type": (
        "change_type",
        lambda t: {"ticket": t["ticket"], "ticket_type": t["ticket_type"]},
    ),
    "close": ("close", lambda t: {"ticket": t["ticket"]}),
    "reopen": ("reopen", lambda t: {"ticket": t["ticket"]}),
}
AREA_QUESTIONS = {"desk": "use_desk", "desk work": "work_in_desk", "portal": "use_portal"}


def test_every_matrix_rule_is_a_question_with_the_same_predicate():
    assert set(ASKED) == set(RULES)
    for rule_name, (key, _objects) in ASKED.items():
        assert policy.QUESTIONS[key].predicate is RULES[rule_name].predicate, rule_name
    for area, predicate_name in AREA_PREDICATES.items():
        assert policy.QUESTIONS[AREA_QUESTIONS[area]].predicate is getattr(policy, predicate_name)


def test_every_object_permission_can_be_asked():
    asked = {question.predicate for question in policy.QUESTIONS.values()}
    assert set(policy.OBJECT_PERMISSIONS.values()) <= asked


@pytest.mark.django_db
@pytest.mark.parametrize(("rule_name", "case_name", "expected"), CELLS)
def test_explanation_is_the_enforced_decision(rule_name, case_name, expected):
    rule = RULES[rule_name]
    user, target = CASES[case_name](World(), rule)
    key, objects = ASKED[rule_name]

    explained = policy.QUESTIONS[key].ask(user, **objects(target))
    enforced = rule.decide(user, target)

    assert isinstance(explained, policy.Decision)
    assert explained == enforced
    assert explained.reason.strip()
    assert bool(explained) is expected, explained.reason


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("area", "kind", "expected"), [pytest.param(*row, id="|".join(row[:2])) for row in AREAS]
)
def test_explanation_of_areas_is_the_enforced_decision(area, kind, expected):
    user = _area_user(kind)
    explained = policy.QUESTIONS[AREA_QUESTIONS[area]].ask(user)
    assert explained == getattr(policy, AREA_PREDICATES[area])(user)
    assert explained.reason.strip()
    assert bool(explained) is expected


def test_a_question_refuses_missing_or_unknown_objects():
    with pytest.raises(TypeError):
        policy.QUESTIONS["reply"].ask(None)
    with pytest.raises(TypeError):
        policy.QUESTIONS["see_address"].ask(None, address=object(), ticket=object())


# ---------------------------------------------------------------------------------------------
# Over HTTP: the admin's explanation and the portal's behaviour, for every external-user cell of
# the portal rules.

HTTP_RULES = {
    "see_address",
    "edit_address",
    "add_contact",
    "see_machine",
    "edit_machine",
    "see_contact",
    "edit_contact",
    "see_ticket",
    "reply",
    "see_message",
    "set_status",
    "file_ticket",
    "can_file",
}
# The portal's form sends a ticket to one recipient; these cells name a team and a user at once.
BOTH_RECIPIENTS = {
    "file: permitted team and user",
    "file: permitted team with a user not responsible",
}
MARKER = "Explained-and-enforced"


def _explain_params(rule_name, user, target):
    """The GET parameters of "Explain a decision" for the cell (None: not on the page)."""
    params = {"user": user.pk}
    if rule_name in {"see_address", "edit_address", "add_contact"}:
        action = {"see_address": "see", "edit_address": "edit"}.get(rule_name, rule_name)
        return {**params, "action": action, "address": target.pk}
    if rule_name in {"see_machine", "edit_machine"}:
        return {**params, "action": rule_name.split("_")[0], "machine": target.pk}
    if rule_name in {"see_contact", "edit_contact"}:
        return {**params, "action": rule_name.split("_")[0], "contact": target.pk}
    if rule_name == "see_ticket":
        return {**params, "action": "see", "ticket": target.number}
    if rule_name == "reply":
        return {**params, "action": "reply", "ticket": target.number}
    if rule_name == "set_status":
        return {
            **params,
            "action": "set_status",
            "ticket": target[0].number,
            "status": target[1].pk,
        }
    if rule_name == "file_ticket":
        params.update(action="file_ticket")
        for name in ("address", "ticket_type", "team", "recipient", "machine"):
            if target.get(name) is not None:
                params[name] = target[name].pk
        return params
    if rule_name == "can_file":
        return {**params, "action": "file_any"}
    return None


def _page_shown(client, url):
    return client.get(url).status_code == 200


def _portal_does_it(client, rule_name, user, target):
    """Whether the portal, asked by `user`, does the cell's action (shows it, or saves it)."""
    if rule_name == "see_address":
        return _page_shown(client, reverse("portal:address-detail", args=[target.pk]))
    if rule_name == "edit_address":
        return _page_shown(client, reverse("portal:address-edit", args=[target.pk]))
    if rule_name == "add_contact":
        return _page_shown(client, reverse("portal:contact-create", args=[target.pk]))
    if rule_name == "see_machine":
        return _page_shown(client, reverse("portal:machine-detail", args=[target.pk]))
    if rule_name == "edit_machine":
        return _page_shown(client, reverse("portal:machine-edit", args=[target.pk]))
    if rule_name == "see_contact":
        return _page_shown(client, reverse("portal:contact-detail", args=[target.pk]))
    if rule_name == "edit_contact":
        return _page_shown(client, reverse("portal:contact-edit", args=[target.pk]))
    if rule_name == "see_ticket":
        return _page_shown(client, reverse("portal:ticket-detail", args=[target.number]))
    if rule_name == "see_message":
        response = client.get(reverse("portal:ticket-detail", args=[target.ticket.number]))
        return response.status_code == 200 and target.body in response.content.decode()
    if rule_name == "reply":
        url = reverse("portal:ticket-reply", args=[target.number])
        client.post(url, {"body": MARKER})
        return Message.objects.filter(ticket=target, body=MARKER).exists()
    if rule_name == "set_status":
        ticket, status = target
        client.post(reverse("portal:ticket-status", args=[ticket.number]), {"status": status.pk})
        ticket.refresh_from_db()
        return ticket.status_id == status.pk
    if rule_name == "file_ticket":
        recipient = (
            f"team:{target['team'].pk}"
            if target.get("team") is not None
            else f"user:{target['recipient'].pk}"
            if target.get("recipient") is not None
            else ""
        )
        data = {
            "address": target["address"].pk,
            "type": target["ticket_type"].pk,
            "recipient": recipient,
            "priority": "normal",
            "subject": MARKER,
            "description": MARKER,
        }
        if target.get("machine") is not None:
            data["machine"] = target["machine"].pk
        client.post(reverse("portal:ticket-create"), data)
        return Ticket.objects.filter(
            subject=MARKER,
            address=target["address"],
            type=target["ticket_type"],
            responsible_team=target.get("team"),
            responsible_user=target.get("recipient"),
            machine=target.get("machine"),
        ).exists()
    if rule_name == "can_file":
        response = client.get(reverse("portal:ticket-create"))
        return response.status_code == 200 and 'name="subject"' in response.content.decode()
    raise AssertionError(rule_name)


# Cases about internal users or nobody: the portal is not theirs (the predicate test covers them).
NOT_EXTERNAL = re.compile(r"^(anonymous|internal(?! note, external)|file: internal|any: internal)")


def _http_cells():
    for cell in CELLS:
        rule_name, case_name, _expected = cell.values
        if (
            rule_name in HTTP_RULES
            and case_name not in BOTH_RECIPIENTS
            and not NOT_EXTERNAL.match(case_name)
        ):
            yield cell


def _text(html):
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


@pytest.fixture
def explainer():
    """A staff member who may view users (and the objects the page names), nothing more."""
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            codename__in=["view_user", "view_address", "view_machine", "view_contactperson"]
        )
    )
    browser = Client()
    browser.force_login(staff)
    return browser


@pytest.mark.django_db
@pytest.mark.parametrize(("rule_name", "case_name", "expected"), list(_http_cells()))
def test_explanation_page_and_portal_agree(client, explainer, rule_name, case_name, expected):
    rule = RULES[rule_name]
    user, target = CASES[case_name](World(), rule)
    assert getattr(user, "is_external", False), f"not an external user: list {case_name!r} above"
    enforced = rule.decide(user, target)

    params = _explain_params(rule_name, user, target)
    if params is not None:
        response = explainer.get(EXPLAIN_URL, params)
        assert response.status_code == 200
        answer = response.context["answer"]
        assert answer is not None, response.context["form"].errors
        assert bool(answer["decision"]) is bool(enforced) is expected
        assert answer["decision"].reason.strip()
        shown = _text(response.content.decode())
        assert re.search(r"\bAllowed\s*:" if expected else r"\bDenied\s*:", shown)
        assert _text(answer["decision"].reason) in shown

    client.force_login(user)
    assert _portal_does_it(client, rule_name, user, target) is expected, enforced.reason


# ---------------------------------------------------------------------------------------------
# The page itself.


@pytest.mark.django_db
def test_the_reason_names_the_address_number(explainer):
    read_only = AddressFactory(number="10023")
    user = ExternalUserFactory(roles=["Portal user"], read=[read_only])
    ticket = TicketFactory(address=read_only)
    response = explainer.get(
        EXPLAIN_URL, {"user": user.pk, "action": "reply", "ticket": ticket.number}
    )
    reason = response.context["answer"]["decision"].reason
    assert (
        reason
        == f"address 10023 of ticket {ticket.number} is in the read set, not in the write set"
    )
    assert re.search(r"\bDenied\s*:", _text(response.content.decode()))
    # The other actions on the same ticket are answered too.
    assert [str(label) for label, _d in response.context["answer"]["related"]] == ["see the ticket"]


@pytest.mark.django_db
def test_the_page_needs_the_view_permission_on_users(client):
    client.force_login(UserFactory(is_staff=True))
    assert client.get(EXPLAIN_URL).status_code == 403


@pytest.mark.django_db
def test_non_staff_and_external_users_are_sent_to_the_admin_login(client):
    for person in (UserFactory(), ExternalUserFactory(roles=["Portal editor"])):
        client.force_login(person)
        response = client.get(EXPLAIN_URL)
        assert response.status_code == 302 and response.url.startswith("/admin/login/")


@pytest.mark.django_db
def test_the_form_starts_with_the_user_from_the_change_page(explainer):
    user = ExternalUserFactory()
    response = explainer.get(EXPLAIN_URL, {"user": user.pk})
    assert response.status_code == 200
    assert response.context["answer"] is None
    assert response.context["form"]["user"].value() == str(user.pk)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"action": "edit", "ticket": "{ticket}"}, "action", "A ticket is not edited"),
        ({"action": "set_status", "ticket": "{ticket}"}, "status", "Choose the status"),
        ({"action": "see"}, None, "Choose exactly one of"),
        ({"action": "see", "ticket": "{ticket}", "address": "{address}"}, None, "exactly one"),
        ({"action": "file_ticket", "address": "{address}"}, "ticket_type", "type of ticket"),
        ({"action": "reply", "ticket": "999999"}, "ticket", "There is no ticket 999999"),
    ],
)
def test_incomplete_questions_are_form_errors(explainer, params, field, message):
    user = ExternalUserFactory()
    ticket = TicketFactory()
    values = {"{ticket}": str(ticket.number), "{address}": str(ticket.address_id)}
    data = {"user": user.pk, **{k: values.get(v, v) for k, v in params.items()}}
    response = explainer.get(EXPLAIN_URL, data)
    assert response.status_code == 200
    assert response.context["answer"] is None
    errors = response.context["form"].errors
    assert any(message in str(error) for error in errors.get(field or "__all__", [])), errors


@pytest.mark.django_db
def test_only_external_users_can_be_chosen(explainer):
    internal = UserFactory(email="agent@example.com")
    external = ExternalUserFactory(email="customer@example.com")
    response = explainer.get(
        reverse("admin:autocomplete"),
        {"app_label": "accounts", "model_name": "accesschange", "field_name": "user", "term": ""},
    )
    ids = {row["id"] for row in response.json()["results"]}
    assert str(external.pk) in ids and str(internal.pk) not in ids
    response = explainer.get(EXPLAIN_URL, {"user": internal.pk, "action": "file_any"})
    assert "user" in response.context["form"].errors
