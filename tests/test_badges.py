"""The row badges of ticket lists are filters (tickets_extras, desk_extras): what they write."""

from django.template import Context, Template
from django.utils import translation

from accounts.models import Team, User
from tickets.models import Priority, Ticket, TicketStatus


def render(source, **context):
    return Template(source).render(Context(context))


def status(**flags):
    return TicketStatus(name="<Waiting>", **flags)


def test_status_badge_tone_follows_the_status_and_escapes_its_name():
    tpl = "{% load tickets_extras %}{{ s|status_badge }}"
    assert render(tpl, s=status(is_closed=True)) == (
        '<span class="badge text-bg-secondary">&lt;Waiting&gt;</span>'
    )
    assert 'class="badge text-bg-primary"' in render(tpl, s=status(is_default=True))
    assert 'class="badge text-bg-info"' in render(tpl, s=status())
    # The desk loads the same filter from its own library.
    assert render("{% load desk_extras %}{{ s|status_badge }}", s=status()) == render(
        tpl, s=status()
    )


def test_portal_priority_badge():
    tpl = "{% load tickets_extras %}{{ t|priority_badge }}"
    assert render(tpl, t=Ticket(priority=Priority.URGENT)) == (
        '<span class="badge text-bg-danger">urgent</span>'
    )
    assert 'badge text-bg-warning">high<' in render(tpl, t=Ticket(priority=Priority.HIGH))
    assert (
        render(tpl, t=Ticket(priority=Priority.LOW))
        == '<span class="text-body-secondary">low</span>'
    )


def test_desk_priority_badge_marks_urgent_with_an_icon():
    tpl = "{% load desk_extras %}{{ t|priority_badge }}"
    urgent = render(tpl, t=Ticket(priority=Priority.URGENT))
    assert urgent.startswith(
        '<span class="badge text-bg-danger"><i class="bi bi-exclamation-octagon"'
    )
    assert 'text-body-tertiary">low<' in render(tpl, t=Ticket(priority=Priority.LOW))
    assert 'text-body-secondary">normal<' in render(tpl, t=Ticket(priority=Priority.NORMAL))
    with translation.override("de"):
        assert ">hoch<" in render(tpl, t=Ticket(priority=Priority.HIGH))


def test_responsible_names_the_person_me_and_the_team_or_shows_a_dash():
    tpl = "{% load desk_extras %}{% responsible t %}"
    viewer = User(pk=1, email="me@example.com")
    other = User(pk=2, email="o@example.com", first_name="<Olga>", last_name="Meyer")
    team = Team(pk=5, name="Support & Field")
    assert render(tpl, t=Ticket(), user=viewer) == "—"
    mine = Ticket(responsible_user=viewer, responsible_team=team)
    html = render(tpl, t=mine, user=viewer)
    assert "<strong>me</strong>" in html and "<br>" in html and "Support &amp; Field" in html
    theirs = render(tpl, t=Ticket(responsible_user=other), user=viewer)
    assert "&lt;Olga&gt; Meyer" in theirs and "<strong>" not in theirs and "bi-people" not in theirs
    only_team = render(tpl, t=Ticket(responsible_team=team), user=viewer)
    assert 'bi-person"' not in only_team and "bi-people" in only_team and "<br>" not in only_team


def test_form_field_writes_label_control_errors_and_help():
    from django import forms

    class Form(forms.Form):
        body = forms.CharField(label="Your <reply>", widget=forms.Textarea(attrs={"rows": 5}))
        status = forms.ChoiceField(label="Status", choices=[("1", "New")], required=False)
        files = forms.FileField(label="Files", required=False, help_text="Up to 5 files.")

    tpl = "{% load tickets_extras %}{% for field in form %}{% form_field field %}{% endfor %}"
    html = render(tpl, form=Form())
    assert '<label for="id_body" class="form-label">Your &lt;reply&gt;' in html
    assert '<span class="asteriskField">*</span>' in html  # required: body only
    assert html.count("asteriskField") == 1
    assert 'class="form-control" required id="id_body"' in html and 'rows="5"' in html
    assert '<select name="status" class="form-select" id="id_status">' in html
    assert 'aria-describedby="id_files_helptext"' in html
    assert '<div class="form-text" id="id_files_helptext">Up to 5 files.</div>' in html
    assert "is-invalid" not in html

    invalid = render(tpl, form=Form(data={"body": ""}))
    assert 'class="form-control is-invalid"' in invalid
    assert (
        '<div class="invalid-feedback d-block"><strong>This field is required.</strong></div>'
        in invalid
    )


def test_form_field_wraps_in_a_column_and_writes_check_boxes_with_the_label_after():
    from django import forms

    class Form(forms.Form):
        q = forms.CharField(label="Search", required=False)
        mine = forms.BooleanField(label="Filed by <me>", required=False)

    tpl = (
        '{% load tickets_extras %}{% form_field form.q wrapper="col-6" %}'
        '{% form_field form.mine wrapper="col-auto" %}'
    )
    html = render(tpl, form=Form(data={"mine": "on"}))
    assert html.startswith('<div class="col-6"><div class="mb-3" id="div_id_q">')
    assert (
        '<div class="col-auto"><div class="mb-3"><div id="div_id_mine" class="form-check">'
        '<input type="checkbox" name="mine" class="form-check-input" id="id_mine" checked>'
        '<label for="id_mine" class="form-check-label">Filed by &lt;me&gt;</label>'
        "</div></div></div>"
    ) in html


def test_portal_rows_escape_user_text_and_badge_only_high_and_urgent():
    import datetime

    from addresses.models import Address
    from tickets.models import TicketType

    when = datetime.datetime(2026, 3, 1, 12, 30, tzinfo=datetime.UTC)
    common = {
        "status": status(),
        "type": TicketType(name="Fault & repair"),
        "address": Address(number="A1", name="<Site>"),
        "created_at": when,
        "updated_at": when,
    }
    urgent = Ticket(number=7, subject="<script>x</script>", priority=Priority.URGENT, **common)
    normal = Ticket(number=8, subject="Quiet", priority=Priority.NORMAL, **common)
    with translation.override("en"):
        html = render(
            "{% load tickets_extras %}{% portal_ticket_rows rows %}", rows=[urgent, normal]
        )
    assert html.count("<tr>") == 2
    assert '<a href="/portal/tickets/7/">#7</a>' in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script>" not in html
    assert html.count("text-bg-danger") == 1  # the urgent one only
    assert "Fault &amp; repair" in html and "&lt;Site&gt;" in html
    # Times as the template's date filters wrote them: ISO in the attribute, local in the text.
    assert '<time datetime="2026-03-01T13:30:00+01:00">' in html


def test_page_window_shows_ends_neighbours_and_gaps():
    from tickets.templatetags.tickets_extras import page_window

    assert page_window(1, 1) == [1]
    assert page_window(1, 3) == [1, 2, 3]
    assert page_window(10, 40) == [1, None, 8, 9, 10, 11, 12, None, 40]
    assert page_window(40, 40) == [1, None, 38, 39, 40]
