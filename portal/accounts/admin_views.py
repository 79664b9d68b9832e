"""The secretariat's administration pages. Each POST calls one admin_service operation."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required

from portal import mail
from portal.accounts import admin_service as admin
from portal.accounts import service as accounts
from portal.accounts.admin_forms import (
    CaveatForm,
    ClearanceForm,
    CompartmentGrantForm,
    InvitationForm,
    MembershipForm,
    OrganizationForm,
    QualificationForm,
    QuorumForm,
    ReasonForm,
    RoomForm,
    SectorForm,
)
from portal.accounts.caveats import Caveat, UserCaveat
from portal.accounts.forms import ConfirmForm
from portal.accounts.models import Organization, User
from portal.db import request_session, utcnow
from portal.enums import Level, OrganizationKind, Role, RoomRole, Sector, SubcommitteeKind
from portal.i18n import REASON_MESSAGES
from portal.rooms.models import Membership, Subcommittee
from portal.security import policy
from portal.security.web import current_subject, performs

blueprint = Blueprint("admin", __name__, url_prefix="/admin")

ADMIN_ERRORS = {
    "email_taken": _l("An account with this e-mail address already exists."),
    "roles_required": _l("Choose at least one role."),
    "qualification_private_only": _l("Only private companies carry a qualification."),
    "qualification_incomplete": _l("Give the certificate reference and the last valid day."),
    "reason_required": _l("A reason is required."),
    "cesi_needs_evaluation": _l("Critical Economic Security Information needs a suitability evaluation."),
    "no_current_clearance": _l("This user has no current clearance to revoke."),
    "caveat_code_taken": _l("A caveat with this code already exists."),
    "caveat_not_grantable": _l("Only topic compartments are granted to people."),
    "caveat_already_held": _l("The user already holds this compartment."),
    "room_archived": _l("This subcommittee is archived."),
    "already_member": _l("The user is already a member of this subcommittee."),
    "quorum_out_of_range": _l("The quorum must be between 1 and the number of voting members (%(count)d)."),
}


def _error_text(code: str) -> str:
    return str(ADMIN_ERRORS.get(code) or REASON_MESSAGES.get(code) or code)


def _gate(action: str) -> None:
    """Administration pages are the secretariat's; anyone else gets a 403 (and an audit entry)."""
    admin.require_secretariat(request_session(), current_subject(), action)


def _get_or_404(model: type[Any], object_id: uuid.UUID) -> Any:
    found = request_session().get(model, object_id)
    if found is None:
        abort(404)
    return found


def _end_of_day(day: Any) -> datetime | None:
    """The end of a calendar day in Japan, as the secretariat means it."""
    return (
        datetime.combine(day, time(23, 59, 59), tzinfo=policy.LOCAL_TIMEZONE).astimezone(UTC) if day else None
    )


# --- index and organisations ----------------------------------------------------------------------


@blueprint.get("/")
@login_required
@performs("admin.view")
def index() -> ResponseReturnValue:
    _gate("admin.view")
    session = request_session()
    return render_template(
        "admin/index.html",
        counts={
            "organizations": len(admin.all_organizations(session)),
            "users": len(admin.all_users(session)),
            "rooms": len(admin.all_rooms(session)),
            "caveats": len(admin.all_caveats(session)),
            "invitations": len(admin.open_invitations(session, utcnow())),
        },
    )


def _render_organizations(form: OrganizationForm | None = None, status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "admin/organizations.html",
            organizations=admin.all_organizations(request_session()),
            form=form or OrganizationForm(formdata=None),
            qualification_form=QualificationForm(formdata=None),
            sector_form=SectorForm(formdata=None),
            confirm_form=ConfirmForm(formdata=None),
            today=utcnow().date(),
        ),
        status,
    )


@blueprint.get("/organizations")
@login_required
@performs("admin.view")
def organizations() -> ResponseReturnValue:
    _gate("admin.view")
    return _render_organizations()


@blueprint.post("/organizations")
@login_required
@performs("admin.organization_create")
def create_organization() -> ResponseReturnValue:
    _gate("admin.organization_create")
    form = OrganizationForm()
    if not form.validate_on_submit():
        return _render_organizations(form, 400)
    try:
        admin.create_organization(
            request_session(),
            current_subject(),
            name_ja=form.name_ja.data or "",
            name_en=form.name_en.data or "",
            kind=OrganizationKind(form.kind.data),
            qualification_reference=form.qualification_reference.data,
            qualified_until=form.qualified_until.data,
            sector=form.sector_value(),
        )
    except admin.AdminError as error:
        request_session().rollback()
        form.form_errors.append(_error_text(error.code))
        return _render_organizations(form, 400)
    request_session().commit()
    flash(_("The organisation was added."), "success")
    return redirect(url_for("admin.organizations"))


@blueprint.post("/organizations/<uuid:organization_id>/sector")
@login_required
@performs("admin.organization_sector")
def set_sector(organization_id: uuid.UUID) -> ResponseReturnValue:
    _gate("admin.organization_sector")
    org = _get_or_404(Organization, organization_id)
    form = SectorForm()
    if not form.validate_on_submit():
        abort(400)
    admin.set_sector(
        request_session(), current_subject(), org, Sector(form.sector.data) if form.sector.data else None
    )
    request_session().commit()
    flash(_("The sector was saved."), "success")
    return redirect(url_for("admin.organizations"))


@blueprint.post("/organizations/<uuid:organization_id>/qualification")
@login_required
@performs("admin.qualification")
def set_qualification(organization_id: uuid.UUID) -> ResponseReturnValue:
    _gate("admin.qualification")
    org = _get_or_404(Organization, organization_id)
    form = QualificationForm()
    if not form.validate_on_submit():
        abort(400)
    revoke = form.action.data == "revoke"
    try:
        admin.set_qualification(
            request_session(),
            current_subject(),
            org,
            reference=form.reference.data,
            valid_until=form.valid_until.data,
            revoke=revoke,
        )
    except admin.AdminError as error:
        request_session().rollback()
        flash(_error_text(error.code), "error")
        return redirect(url_for("admin.organizations"))
    request_session().commit()
    flash(_("The qualification was updated."), "success")
    return redirect(url_for("admin.organizations"))


# --- users and invitations ------------------------------------------------------------------------


def _invitation_form() -> InvitationForm:
    form = InvitationForm()
    form.organization.choices = [
        (str(org.id), org.name_ja) for org in admin.all_organizations(request_session())
    ]
    return form


def _render_users(
    form: InvitationForm | None = None, status: int = 200, link: str | None = None
) -> ResponseReturnValue:
    if form is None:
        form = _invitation_form()
        form.process(formdata=None)
        form.organization.choices = [
            (str(org.id), org.name_ja) for org in admin.all_organizations(request_session())
        ]
    now = utcnow()
    return (
        render_template(
            "admin/users.html",
            users=admin.all_users(request_session()),
            invitations=admin.open_invitations(request_session(), now),
            form=form,
            invitation_link=link,
            now=now,
        ),
        status,
    )


@blueprint.get("/users")
@login_required
@performs("admin.view")
def users() -> ResponseReturnValue:
    _gate("admin.view")
    return _render_users()


@blueprint.post("/invitations")
@login_required
@performs("admin.invite")
def invite() -> ResponseReturnValue:
    _gate("admin.invite")
    form = _invitation_form()
    if not form.validate_on_submit():
        return _render_users(form, 400)
    org = request_session().get(Organization, uuid.UUID(form.organization.data))
    if org is None:
        form.organization.errors = [str(_l("Choose an organisation."))]
        return _render_users(form, 400)
    try:
        user, token = admin.invite_user(
            request_session(),
            current_subject(),
            email=form.email.data or "",
            display_name=form.display_name.data or "",
            organization=org,
            roles=[Role(role) for role in form.roles.data or []],
            locale=form.locale.data or "ja",
        )
    except admin.AdminError as error:
        request_session().rollback()
        target = form.email if error.code == "email_taken" else form.roles
        target.errors = [_error_text(error.code)]
        return _render_users(form, 400)
    request_session().commit()
    link = url_for("accounts.accept_invitation", token=token, _external=True)
    sent = mail.send_invitation(current_app.config["PORTAL_SETTINGS"], user.email, link)
    flash(
        _("The invitation was created and sent by e-mail.") if sent else _("The invitation was created."),
        "success",
    )
    return _render_users(link=link)


def _render_user(user: User, status: int = 200, **forms: Any) -> ResponseReturnValue:
    session = request_session()
    now = utcnow()
    state, newest = policy.clearance_state(user.clearances, now)
    compartment_form = forms.get("compartment_form") or CompartmentGrantForm(formdata=None)
    compartment_form.caveat.choices = [
        (str(c.id), f"{c.code} — {c.name_ja}")
        for c in admin.all_caveats(session)
        if c.kind.value == "compartment"
    ]
    membership_form = forms.get("membership_form") or MembershipForm(formdata=None)
    membership_form.room.choices = [
        (str(r.id), r.name_ja) for r in admin.all_rooms(session) if r.archived_at is None
    ]
    memberships = sorted(user.memberships, key=lambda m: m.valid_from, reverse=True)
    subject = current_subject()
    secrets_grant = policy.grant_from(
        policy.decide_administer(subject, "admin.view"), subject, "user_secret", user.id
    )
    references = {c.id: accounts.evaluation_reference(session, secrets_grant, c) for c in user.clearances}
    return (
        render_template(
            "admin/user.html",
            user=user,
            clearance_state=state,
            clearance=newest,
            clearances=sorted(user.clearances, key=lambda c: c.granted_at, reverse=True),
            references=references,
            held=admin.held_compartments(session, user, now),
            memberships=memberships,
            clearance_form=forms.get("clearance_form") or ClearanceForm(formdata=None),
            revoke_form=forms.get("revoke_form") or ReasonForm(formdata=None),
            compartment_form=compartment_form,
            membership_form=membership_form,
            confirm_form=ConfirmForm(formdata=None),
            now=now,
        ),
        status,
    )


@blueprint.get("/users/<uuid:user_id>")
@login_required
@performs("admin.view")
def user_detail(user_id: uuid.UUID) -> ResponseReturnValue:
    _gate("admin.view")
    return _render_user(_get_or_404(User, user_id))


def _apply(user: User, action: Any, success: str, form_name: str, form: Any) -> ResponseReturnValue:
    """Run one administration operation for a user page; keep the form and explain on failure."""
    try:
        action()
    except admin.AdminError as error:
        request_session().rollback()
        form.form_errors.append(_error_text(error.code))
        return _render_user(user, 400, **{form_name: form})
    except policy.AccessDenied as denied:
        request_session().rollback()
        form.form_errors.append(_error_text(denied.decision.reason))
        return _render_user(user, 403, **{form_name: form})
    request_session().commit()
    flash(success, "success")
    return redirect(url_for("admin.user_detail", user_id=user.id))


@blueprint.post("/users/<uuid:user_id>/clearance")
@login_required
@performs("admin.clearance_grant")
def grant_clearance(user_id: uuid.UUID) -> ResponseReturnValue:
    _gate("admin.clearance_grant")
    user = _get_or_404(User, user_id)
    form = ClearanceForm()
    if not form.validate_on_submit():
        return _render_user(user, 400, clearance_form=form)
    return _apply(
        user,
        lambda: admin.grant_clearance(
            request_session(),
            current_subject(),
            user,
            level=Level(form.level.data),
            evaluation_reference=form.evaluation_reference.data,
            evaluated_on=form.evaluated_on.data,
            expires_at=_end_of_day(form.expires_on.data),
            reason=form.reason.data or "",
        ),
        _("The clearance was recorded."),
        "clearance_form",
        form,
    )


@blueprint.post("/users/<uuid:user_id>/clearance/revoke")
@login_required
@performs("admin.clearance_revoke")
def revoke_clearance(user_id: uuid.UUID) -> ResponseReturnValue:
    _gate("admin.clearance_revoke")
    user = _get_or_404(User, user_id)
    form = ReasonForm()
    if not form.validate_on_submit():
        return _render_user(user, 400, revoke_form=form)
    return _apply(
        user,
        lambda: admin.revoke_clearance(request_session(), current_subject(), user, form.reason.data or ""),
        _("The clearance was revoked."),
        "revoke_form",
        form,
    )


@blueprint.post("/users/<uuid:user_id>/compartments")
@login_required
@performs("admin.caveat_grant")
def grant_compartment(user_id: uuid.UUID) -> ResponseReturnValue:
    _gate("admin.caveat_grant")
    user = _get_or_404(User, user_id)
    form = CompartmentGrantForm()
    form.caveat.choices = [(str(c.id), c.code) for c in admin.all_caveats(request_session())]
    if not form.validate_on_submit():
        return _render_user(user, 400, compartment_form=form)
    caveat = _get_or_404(Caveat, uuid.UUID(form.caveat.data))
    return _apply(
        user,
        lambda: admin.grant_compartment(
            request_session(), current_subject(), user, caveat, form.reason.data or ""
        ),
        _("The compartment was granted."),
        "compartment_form",
        form,
    )


@blueprint.post("/users/<uuid:user_id>/compartments/<uuid:held_id>/revoke")
@login_required
@performs("admin.caveat_revoke")
def revoke_compartment(user_id: uuid.UUID, held_id: uuid.UUID) -> ResponseReturnValue:
    _gate("admin.caveat_revoke")
    user = _get_or_404(User, user_id)
    held = _get_or_404(UserCaveat, held_id)
    if held.user_id != user.id or not ConfirmForm().validate_on_submit():
        abort(400)
    return _apply(
        user,
        lambda: admin.revoke_compartment(request_session(), current_subject(), held),
        _("The compartment was revoked."),
        "compartment_form",
        CompartmentGrantForm(formdata=None),
    )


@blueprint.post("/users/<uuid:user_id>/memberships")
@login_required
@performs("admin.membership_add")
def add_membership(user_id: uuid.UUID) -> ResponseReturnValue:
    _gate("admin.membership_add")
    user = _get_or_404(User, user_id)
    form = MembershipForm()
    form.room.choices = [(str(r.id), r.name_ja) for r in admin.all_rooms(request_session())]
    if not form.validate_on_submit():
        return _render_user(user, 400, membership_form=form)
    room = _get_or_404(Subcommittee, uuid.UUID(form.room.data))
    return _apply(
        user,
        lambda: admin.add_membership(
            request_session(), current_subject(), room, user, RoomRole(form.room_role.data)
        ),
        _("The membership was added."),
        "membership_form",
        form,
    )


@blueprint.post("/memberships/<uuid:membership_id>/end")
@login_required
@performs("admin.membership_end")
def end_membership(membership_id: uuid.UUID) -> ResponseReturnValue:
    _gate("admin.membership_end")
    membership = _get_or_404(Membership, membership_id)
    user = _get_or_404(User, membership.user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return _apply(
        user,
        lambda: admin.end_membership(request_session(), current_subject(), membership),
        _("The membership was ended."),
        "membership_form",
        MembershipForm(formdata=None),
    )


@blueprint.post("/users/<uuid:user_id>/suspension")
@login_required
@performs("admin.user_suspend")
def toggle_suspension(user_id: uuid.UUID) -> ResponseReturnValue:
    _gate("admin.user_suspend")
    user = _get_or_404(User, user_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    suspend = not user.is_suspended
    return _apply(
        user,
        lambda: admin.set_suspended(request_session(), current_subject(), user, suspend),
        _("The account was suspended.") if suspend else _("The account was reactivated."),
        "revoke_form",
        ReasonForm(formdata=None),
    )


# --- caveats and rooms ----------------------------------------------------------------------------


def _render_caveats(form: CaveatForm | None = None, status: int = 200) -> ResponseReturnValue:
    return (
        render_template(
            "admin/caveats.html",
            caveats=admin.all_caveats(request_session()),
            form=form or CaveatForm(formdata=None),
        ),
        status,
    )


@blueprint.get("/caveats")
@login_required
@performs("admin.view")
def caveats() -> ResponseReturnValue:
    _gate("admin.view")
    return _render_caveats()


@blueprint.post("/caveats")
@login_required
@performs("admin.caveat_create")
def create_caveat() -> ResponseReturnValue:
    _gate("admin.caveat_create")
    form = CaveatForm()
    if not form.validate_on_submit():
        return _render_caveats(form, 400)
    try:
        admin.create_compartment(
            request_session(),
            current_subject(),
            code=form.code.data or "",
            name_ja=form.name_ja.data or "",
            name_en=form.name_en.data or "",
        )
    except admin.AdminError as error:
        request_session().rollback()
        form.code.errors = [_error_text(error.code)]
        return _render_caveats(form, 400)
    request_session().commit()
    flash(_("The compartment was created."), "success")
    return redirect(url_for("admin.caveats"))


def _quorum_form(room: Subcommittee, **kwargs: Any) -> QuorumForm:
    """One form per room on the page: the same field name, an id of its own."""
    form = QuorumForm(**kwargs)
    form.quorum.id = form.quorum.label.field_id = f"quorum-{room.id.hex}"
    return form


def _render_rooms(
    form: RoomForm | None = None, status: int = 200, quorum_form: tuple[uuid.UUID, QuorumForm] | None = None
) -> ResponseReturnValue:
    session = request_session()
    rooms = admin.all_rooms(session)
    quorum_forms = {}
    for room in rooms:
        blank = _quorum_form(room, formdata=None)
        blank.quorum.data = "" if room.quorum is None else str(room.quorum)
        quorum_forms[room.id] = blank
    if quorum_form is not None:
        quorum_forms[quorum_form[0]] = quorum_form[1]
    return (
        render_template(
            "admin/rooms.html",
            rooms=rooms,
            form=form or RoomForm(formdata=None),
            confirm_form=ConfirmForm(formdata=None),
            quorum_forms=quorum_forms,
            voting_counts={room.id: admin.voting_member_count(session, room.id, utcnow()) for room in rooms},
        ),
        status,
    )


@blueprint.get("/rooms")
@login_required
@performs("admin.view")
def rooms() -> ResponseReturnValue:
    _gate("admin.view")
    return _render_rooms()


@blueprint.post("/rooms")
@login_required
@performs("admin.room_create")
def create_room() -> ResponseReturnValue:
    _gate("admin.room_create")
    form = RoomForm()
    if not form.validate_on_submit():
        return _render_rooms(form, 400)
    admin.create_room(
        request_session(),
        current_subject(),
        kind=SubcommitteeKind(form.kind.data),
        name_ja=form.name_ja.data or "",
        name_en=form.name_en.data or "",
        description_ja=form.description_ja.data or "",
        description_en=form.description_en.data or "",
        max_level=Level(form.max_level.data),
    )
    request_session().commit()
    flash(_("The subcommittee was created."), "success")
    return redirect(url_for("admin.rooms"))


@blueprint.post("/rooms/<uuid:room_id>/archive")
@login_required
@performs("admin.room_archive")
def archive_room(room_id: uuid.UUID) -> ResponseReturnValue:
    _gate("admin.room_archive")
    room = _get_or_404(Subcommittee, room_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    admin.archive_room(request_session(), current_subject(), room)
    request_session().commit()
    flash(_("The subcommittee was archived."), "success")
    return redirect(url_for("admin.rooms"))


@blueprint.post("/rooms/<uuid:room_id>/quorum")
@login_required
@performs("admin.room_quorum")
def set_quorum(room_id: uuid.UUID) -> ResponseReturnValue:
    _gate("admin.room_quorum")
    room = _get_or_404(Subcommittee, room_id)
    form = _quorum_form(room)
    if not form.validate_on_submit():
        return _render_rooms(status=400, quorum_form=(room.id, form))
    try:
        admin.set_quorum(request_session(), current_subject(), room, form.quorum_value())
    except admin.AdminError as error:
        request_session().rollback()
        voting = admin.voting_member_count(request_session(), room.id, utcnow())
        form.quorum.errors = [str(ADMIN_ERRORS[error.code] % {"count": voting})]
        return _render_rooms(status=400, quorum_form=(room.id, form))
    request_session().commit()
    flash(_("The quorum was saved."), "success")
    return redirect(url_for("admin.rooms"))
