"""The admins' side of people's controls (API.md §9): appeals, user reports and the
context of a flag. Admins only."""

from __future__ import annotations

from typing import Any

from flask_jwt_extended import current_user
from flask_smorest import Blueprint

from cyberscan.api.admin import admin_required
from cyberscan.models import Appeal, UserReport
from cyberscan.schemas.common import page_of
from cyberscan.schemas.people import (
    AdminAppealSchema,
    AdminReportSchema,
    AppealDecisionSchema,
    AppealQuerySchema,
    FlagContextSchema,
    ReportQuerySchema,
    ReportReviewSchema,
)
from cyberscan.services import appeals, reporting
from cyberscan.services.pagination import Page

bp = Blueprint(
    "moderation",
    __name__,
    url_prefix="/api/admin",
    description="Appeals, user reports and flag context (admins)",
)


@bp.get("/appeals")
@admin_required
@bp.arguments(AppealQuerySchema, location="query")
@bp.response(200, page_of(AdminAppealSchema))
def list_appeals(query: dict[str, Any]) -> Page[Appeal]:
    """The appeal queue, oldest first."""
    return appeals.list_appeals(**query)


@bp.post("/appeals/<int:appeal_id>")
@admin_required
@bp.arguments(AppealDecisionSchema, location="json")
@bp.response(200, AdminAppealSchema)
def decide_appeal(payload: dict[str, Any], appeal_id: int) -> Appeal:
    """Accept (the strike stops counting) or reject an appeal; the author is told."""
    return appeals.decide_appeal(current_user, appeal_id, **payload)


@bp.get("/reports")
@admin_required
@bp.arguments(ReportQuerySchema, location="query")
@bp.response(200, page_of(AdminReportSchema))
def list_reports(query: dict[str, Any]) -> Page[UserReport]:
    """Reports people made, newest first, with the reporter and the reported text."""
    return reporting.list_reports(**query)


@bp.post("/reports/<int:report_id>/review")
@admin_required
@bp.arguments(ReportReviewSchema, location="json")
@bp.response(200, AdminReportSchema)
def review_report(payload: dict[str, Any], report_id: int) -> UserReport:
    """Dismiss a report, or remove the reported message."""
    return reporting.review_report(current_user, report_id, **payload)


@bp.get("/flagged/<int:flag_id>/context")
@admin_required
@bp.response(200, FlagContextSchema)
def get_flag_context(flag_id: int) -> dict[str, Any]:
    """The flag's receiver and the messages around it; the reading is audit-logged."""
    return appeals.flag_context(current_user, flag_id)
