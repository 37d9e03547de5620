"""Tickets, their conversation (messages and attachments) and their history.

Scoping is answered by `access.policy`; the QuerySet methods only hand the question over.
"""

import os
import uuid

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .numbering import next_ticket_numbers


class TicketTypeQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def creatable_by(self, user):
        """The types `user` may file a ticket with."""
        from access import policy

        return policy.ticket_types_creatable(self, user)


class TicketType(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    order = models.PositiveIntegerField(_("order"), default=0)

    objects = TicketTypeQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket type")
        verbose_name_plural = _("ticket types")
        ordering = ["order", "name"]

    def __str__(self):
        return self.name


class TicketStatusQuerySet(models.QuerySet):
    def active(self):
        return self.filter(is_active=True)

    def settable_by(self, user):
        """The statuses `user` may apply to a ticket it may write to."""
        from access import policy

        return policy.statuses_settable(self, user)

    def default(self):
        return self.get(is_default=True)


class TicketStatus(models.Model):
    name = models.CharField(_("name"), max_length=100, unique=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    is_default = models.BooleanField(
        _("default"), default=False, help_text=_("New tickets get this status. Exactly one.")
    )
    is_closed = models.BooleanField(
        _("closes the ticket"), default=False, help_text=_("A ticket in this status is closed.")
    )

    objects = TicketStatusQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket status")
        verbose_name_plural = _("ticket statuses")
        ordering = ["order", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"],
                condition=models.Q(is_default=True),
                name="ticketstatus_one_default",
                violation_error_message=_("Another status is already the default."),
            ),
            models.CheckConstraint(
                condition=models.Q(is_default=False) | models.Q(is_active=True, is_closed=False),
                name="ticketstatus_default_open_active",
                violation_error_message=_(
                    "The default status must be active and must not close tickets."
                ),
            ),
        ]

    def __str__(self):
        return self.name


class Priority(models.TextChoices):
    LOW = "low", _("low")
    NORMAL = "normal", _("normal")
    HIGH = "high", _("high")
    URGENT = "urgent", _("urgent")


class TicketQuerySet(models.QuerySet):
    def visible_to(self, user):
        from access import policy

        return policy.tickets_visible(self, user)

    def writable_by(self, user):
        """Tickets `user` may reply to and set a status on."""
        from access import policy

        return policy.tickets_writable(self, user)

    def open(self):
        return self.filter(closed_at__isnull=True)

    def closed(self):
        return self.filter(closed_at__isnull=False)

    def refresh_awaiting_customer(self):
        """Recompute `awaiting_customer` of these tickets from their messages (the definition
        is `awaiting_customer_condition`); returns how many tickets changed.

        `Message.save()` and `Message.delete()` keep the flag of their ticket; call this after
        writing messages past them (`bulk_create`, queryset `update()` or `delete()`, raw SQL)
        and after changing whether a message author is external. Two set-based UPDATEs that
        write only the rows whose flag changes, so refreshing a large history writes little.
        """
        awaiting = awaiting_customer_condition()
        changed = (
            self.filter(awaiting_customer=False).filter(awaiting).update(awaiting_customer=True)
        )
        changed += (
            self.filter(awaiting_customer=True).exclude(awaiting).update(awaiting_customer=False)
        )
        return changed

    def bulk_create(self, objs, *args, **kwargs):
        """Assign numbers (and the default status) to tickets created in bulk (imports)."""
        objs = list(objs)
        missing = [obj for obj in objs if obj.number is None]
        numbers = next_ticket_numbers(len(missing), using=self.db)
        for obj, number in zip(missing, numbers, strict=True):
            obj.number = number
        if any(obj.status_id is None for obj in objs):
            default = TicketStatus.objects.using(self.db).default()
            for obj in objs:
                if obj.status_id is None:
                    obj.status = default
        return super().bulk_create(objs, *args, **kwargs)


class Ticket(models.Model):
    number = models.BigIntegerField(_("number"), unique=True, editable=False)
    subject = models.CharField(_("subject"), max_length=200)
    type = models.ForeignKey(
        TicketType, verbose_name=_("type"), on_delete=models.PROTECT, related_name="tickets"
    )
    status = models.ForeignKey(
        TicketStatus, verbose_name=_("status"), on_delete=models.PROTECT, related_name="tickets"
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    address = models.ForeignKey(
        "addresses.Address",
        verbose_name=_("address"),
        on_delete=models.PROTECT,
        related_name="tickets",
    )
    machine = models.ForeignKey(
        "addresses.Machine",
        verbose_name=_("machine"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    contact_person = models.ForeignKey(
        "addresses.ContactPerson",
        verbose_name=_("contact person"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="tickets",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("created by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="created_tickets",
    )
    responsible_team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("responsible team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="tickets",
    )
    responsible_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("responsible user"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="responsible_tickets",
        limit_choices_to={"is_external": False},
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    # Derived from the messages and kept by them (`Message.save`/`delete`); see
    # `awaiting_customer_condition`. It lets the portal dashboard list "waiting for your
    # answer" from an index instead of reading every open ticket's conversation.
    awaiting_customer = models.BooleanField(
        _("waiting for the customer"),
        default=False,
        editable=False,
        help_text=_(
            "The latest message customers can see (the description or a reply, not an internal "
            "note) was written by an internal user. Kept up to date by the messages."
        ),
    )

    objects = TicketQuerySet.as_manager()

    class Meta:
        verbose_name = _("ticket")
        verbose_name_plural = _("tickets")
        ordering = ["-created_at", "-pk"]
        permissions = [("use_desk", _("Can work in the support desk"))]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(responsible_team__isnull=False)
                | models.Q(responsible_user__isnull=False),
                name="ticket_has_responsible",
                violation_error_message=_("A ticket needs a responsible team or user."),
            ),
        ]
        indexes = [
            # The customer's list by recency; with the id (the order's tie-breaker) a page is
            # read from the index alone, one range per address (tickets.paging).
            models.Index(fields=["address", "-updated_at", "-id"], name="ticket_addr_upd_id_idx"),
            models.Index(fields=["responsible_team", "closed_at"], name="ticket_team_closed_idx"),
            models.Index(fields=["responsible_user", "closed_at"], name="ticket_user_closed_idx"),
            models.Index(fields=["-updated_at"], name="ticket_updated_idx"),
            # Issue 5: open tickets are the daily work and a small part of the history. These
            # partial indexes serve the portal's open list and dashboard (by address), the
            # desk's queues and their counts (by person, team, or all open), sorted by update.
            models.Index(
                fields=["address", "-updated_at", "-id"],
                condition=models.Q(closed_at__isnull=True),
                name="ticket_open_addr_upd_id_idx",
            ),
            # With the id, as the queues sort (`-updated_at`, `-id`): a page is then read from
            # the index in order and the LIMIT stops the scan.
            models.Index(
                fields=["responsible_user", "-updated_at", "-id"],
                condition=models.Q(closed_at__isnull=True),
                name="ticket_open_user_upd_id_idx",
            ),
            models.Index(
                fields=["responsible_team", "-updated_at", "-id"],
                condition=models.Q(closed_at__isnull=True, responsible_user__isnull=True),
                name="ticket_open_team_upd_id_idx",
            ),
            models.Index(
                fields=["-updated_at"],
                condition=models.Q(closed_at__isnull=True),
                name="ticket_open_updated_idx",
            ),
            # The customer's open/closed counts (index-only, capped).
            models.Index(fields=["address", "closed_at"], name="ticket_addr_closed_idx"),
            # The portal dashboard's "waiting for your answer": the few open tickets at the
            # customer's addresses whose latest public message is the support team's.
            models.Index(
                fields=["address", "-updated_at"],
                condition=models.Q(closed_at__isnull=True, awaiting_customer=True),
                name="ticket_awaiting_addr_idx",
            ),
            # The dashboard's "my open tickets" and the list's "Filed by me": a customer who
            # files for a whole company has thousands of tickets; newest first from an index.
            models.Index(
                fields=["created_by", "-updated_at", "-id"],
                condition=models.Q(closed_at__isnull=True),
                name="ticket_open_creator_upd_idx",
            ),
        ]

    def __str__(self):
        return f"#{self.number} {self.subject}"

    @property
    def is_closed(self):
        return self.closed_at is not None

    def clean(self):
        super().clean()
        errors = {}
        if self.machine_id and self.address_id and self.machine.address_id != self.address_id:
            errors["machine"] = _("The machine must stand at the ticket's address.")
        if (
            self.contact_person_id
            and self.address_id
            and self.contact_person.address_id != self.address_id
        ):
            errors["contact_person"] = _("The contact person must belong to the ticket's address.")
        if self.responsible_user_id and self.responsible_user.is_external:
            errors["responsible_user"] = _("The responsible user must be an internal user.")
        if not self.responsible_team_id and not self.responsible_user_id:
            errors["responsible_team"] = _("A ticket needs a responsible team or user.")
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        if self.number is None:
            self.number = next_ticket_numbers(1, using=kwargs.get("using") or "default")[0]
        if self.status_id is None:
            self.status = TicketStatus.objects.default()
        if (
            not args
            and kwargs.get("update_fields") is None
            and not kwargs.get("force_insert")
            and not self._state.adding
            and self.pk is not None
            and kwargs.get("using") in (None, self._state.db)
        ):
            # `awaiting_customer` belongs to the messages: a full save of a ticket read before
            # a message was added (an admin form, a stale copy) must not put its old value back.
            # So a full update writes every loaded field but that one (Django itself narrows a
            # save of a deferred instance to its loaded fields the same way).
            deferred = self.get_deferred_fields()
            kwargs["update_fields"] = [
                field.attname
                for field in self._meta.concrete_fields
                if not field.primary_key
                and field.attname not in deferred
                and field.name != "awaiting_customer"
            ]
        super().save(*args, **kwargs)


class TicketNumberCounter(models.Model):
    """The ticket number counter for databases without sequences (see `numbering`)."""

    last_number = models.BigIntegerField()

    class Meta:
        verbose_name = _("ticket number counter")
        default_permissions = ()

    def __str__(self):
        return str(self.last_number)


class MessageQuerySet(models.QuerySet):
    def public(self):
        return self.exclude(kind=Message.Kind.INTERNAL_NOTE)


def awaiting_customer_condition():
    """What `Ticket.awaiting_customer` means, as a boolean expression on a ticket queryset.

    True when the ticket's latest public message (the description or a reply, never an
    internal note; latest by `created_at`, then by primary key) was written by an internal
    user. False when that message has no author (it counts for no side), was written by an
    external user, or when the ticket has no public message. Whether an author is external is
    read when the flag is computed: changing that on a user leaves the flags of their tickets
    as they were until `TicketQuerySet.refresh_awaiting_customer` runs.
    """
    latest_public = (
        Message.objects.filter(ticket=OuterRef("pk")).public().order_by("-created_at", "-pk")
    )
    by_staff = latest_public.values(by_staff=~F("author__is_external"))[:1]
    return Coalesce(Subquery(by_staff), False, output_field=models.BooleanField())


class Message(models.Model):
    class Kind(models.TextChoices):
        DESCRIPTION = "description", _("description")
        REPLY = "reply", _("reply")
        INTERNAL_NOTE = "internal_note", _("internal note")

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="messages"
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ticket_messages",
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices, default=Kind.REPLY)
    body = models.TextField(_("text"))
    created_at = models.DateTimeField(_("created"), default=timezone.now)

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="message_ticket_created_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.ticket.number}"

    @property
    def is_internal(self):
        return self.kind == self.Kind.INTERNAL_NOTE

    # Every write of a message keeps `Ticket.awaiting_customer` of its ticket true to the
    # conversation (services, factories, admin alike). Concurrent writers of one ticket's
    # messages must hold the ticket's row lock, as the services do (`_lock_ticket`), so each
    # recomputation sees the others' messages.

    def save(self, *args, refresh_awaiting=True, **kwargs):
        """Save, and recompute the ticket's `awaiting_customer`. `refresh_awaiting=False` is
        for a writer that has set the flag itself: a new ticket's description is its only
        public message, so the flag is whether its author is internal (tickets.services)."""
        adding = self._state.adding
        tickets = {self.ticket_id}
        if not adding and self.pk is not None:
            # A message moved to another ticket changes the flag of the one it left too.
            stored = Message.objects.using(self._state.db).filter(pk=self.pk)
            tickets.update(stored.values_list("ticket_id", flat=True))
        super().save(*args, **kwargs)
        if adding and (self.is_internal or not refresh_awaiting):
            return  # a new internal note does not change which public message is the latest
        for ticket_id in tickets:
            self._refresh_awaiting_customer(ticket_id)

    def delete(self, *args, **kwargs):
        ticket_id = self.ticket_id
        result = super().delete(*args, **kwargs)
        self._refresh_awaiting_customer(ticket_id)
        return result

    def _refresh_awaiting_customer(self, ticket_id):
        """Recompute the flag of ticket `ticket_id` (one small SELECT; one UPDATE that writes
        the row only when the flag changes, leaving `updated_at` alone) and set it on the
        ticket object this message holds, so the caller's copy agrees with the database."""
        tickets = Ticket.objects.using(self._state.db).filter(pk=ticket_id)
        awaiting = (
            tickets.annotate(awaiting=awaiting_customer_condition())
            .values_list("awaiting", flat=True)
            .first()
        )
        if awaiting is None:
            return  # the ticket is gone
        tickets.exclude(awaiting_customer=awaiting).update(awaiting_customer=awaiting)
        if Message.ticket.is_cached(self) and self.ticket.pk == ticket_id:
            self.ticket.awaiting_customer = awaiting


def attachment_upload_to(instance, filename):
    """Files are stored under generated names; the original name is kept in the row."""
    extension = os.path.splitext(filename)[1].lower()[:10]
    now = timezone.now()
    return f"attachments/{now:%Y/%m}/{uuid.uuid4().hex}{extension}"


class Attachment(models.Model):
    message = models.ForeignKey(
        Message, verbose_name=_("message"), on_delete=models.CASCADE, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_upload_to, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["pk"]

    def __str__(self):
        return self.original_name


class TicketEvent(models.Model):
    """One line of a ticket's history: who did what when, with old and new values."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        STATUS_CHANGED = "status_changed", _("status changed")
        FORWARDED = "forwarded", _("forwarded")
        TAKEN = "taken", _("taken")
        CLOSED = "closed", _("closed")
        REOPENED = "reopened", _("reopened")
        TYPE_CHANGED = "type_changed", _("type changed")
        PRIORITY_CHANGED = "priority_changed", _("priority changed")

    # What a customer sees of the history; forwarding and taking are internal matters.
    PUBLIC_KINDS = frozenset({Kind.CREATED, Kind.STATUS_CHANGED, Kind.CLOSED, Kind.REOPENED})

    ticket = models.ForeignKey(
        Ticket, verbose_name=_("ticket"), on_delete=models.CASCADE, related_name="events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="ticket_events",
    )
    kind = models.CharField(_("event"), max_length=20, choices=Kind.choices)
    old_value = models.CharField(_("old value"), max_length=255, blank=True)
    new_value = models.CharField(_("new value"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("ticket event")
        verbose_name_plural = _("ticket events")
        ordering = ["created_at", "pk"]
        indexes = [models.Index(fields=["ticket", "created_at"], name="event_ticket_created_idx")]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.ticket_id}"

    @property
    def is_public(self):
        return self.kind in self.PUBLIC_KINDS
