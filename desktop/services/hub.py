"""The services of one open database, built lazily and shared (the composition root creates one
``Services`` and injects it). Each property imports its module on first use, so a page nobody
opens costs nothing at start-up.

When adding a service: add a property here, with the collaborators it needs given (services take
them as required arguments: no service builds another); never build services inside widgets or
command modules (the command line reaches them through ``desktop.cli._common.services``).
"""

from __future__ import annotations

from functools import cached_property

from desktop.services.database import Database


class Services:
    def __init__(self, db: Database):
        self.db = db

    @cached_property
    def settings(self):
        from desktop.services.settings import SettingsService

        return SettingsService(self.db)

    @cached_property
    def persons(self):
        from desktop.services.persons import PersonService

        return PersonService(self.db)

    @cached_property
    def imports(self):
        from desktop.services.imports import ImportService

        return ImportService(self.db)

    @cached_property
    def payroll(self):
        from desktop.services.payroll import PayrollService

        return PayrollService(self.db, self.settings)

    @cached_property
    def lists(self):
        from desktop.services.lists import ListService

        return ListService(self.db, self.payroll)

    @cached_property
    def forms(self):
        from desktop.services.forms import FormService

        return FormService(self.db, persons=self.persons, settings=self.settings, resumptions=self.resumptions)

    @cached_property
    def visits(self):
        from desktop.services.visits import VisitService

        return VisitService(self.db, self.persons)

    @cached_property
    def operators(self):
        from desktop.services.operators import OperatorService

        return OperatorService(self.db)

    @cached_property
    def approvals(self):
        from desktop.services.approvals import ApprovalService

        return ApprovalService(self.db, self.payroll)

    @cached_property
    def sync_conflicts(self):
        from desktop.services.sync import ConflictService

        return ConflictService(self.db)

    @cached_property
    def counter(self):
        from desktop.services.counter import CounterService

        return CounterService(self.db, self.persons, self.settings, self.evidence, self.resumptions,
                              station=self.station)

    @cached_property
    def resumptions(self):
        """The one resumption rule (what the next run resumes for one person)."""
        from desktop.services.resumptions import Resumptions

        return Resumptions(self.db, self.settings)

    @cached_property
    def enrolment(self):
        """Reference photos taken at the counter (with consent)."""
        from desktop.services.enrolment import EnrolmentService

        return EnrolmentService(self.db, self.evidence)

    @cached_property
    def station(self):
        from desktop.services.station import StationSettings

        return StationSettings()

    @cached_property
    def resident_languages(self):
        """The language each resident chose for the resident screen (issue 19 §7)."""
        from desktop.services.resident_prefs import ResidentLanguages

        return ResidentLanguages(self.db.url)

    # --- issue 8: lists, outreach, payroll review, deaths and recoveries, dashboards -----------

    @cached_property
    def outreach(self):
        from desktop.services.outreach import OutreachService

        return OutreachService(self.db, self.settings)

    @cached_property
    def payroll_review(self):
        from desktop.services.payroll_review import PayrollReviewService

        return PayrollReviewService(self.db, self.payroll)

    @cached_property
    def deaths(self):
        from desktop.services.deaths import DeathService

        return DeathService(self.db, self.payroll)

    @cached_property
    def dashboards(self):
        from desktop.services.dashboards import DashboardService

        return DashboardService(self.db)

    @cached_property
    def vault(self):
        """This installation's image vault (its key from the OS key store)."""
        from desktop.platform.vault import Vault

        return Vault.open()

    @cached_property
    def evidence(self):
        from desktop.services.evidence import EvidenceService

        return EvidenceService(self.db, self.vault, self.settings)

    # --- the command line's other services --------------------------------------------------------

    @cached_property
    def profiles(self):
        """Saved import source profiles (column mappings)."""
        from desktop.services.profiles import ProfileService

        return ProfileService(self.db)

    @cached_property
    def backup(self):
        from desktop.services.backup import BackupService

        return BackupService(self.db)
