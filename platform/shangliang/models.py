"""Every model, imported so that the metadata is complete (Alembic, tests, tenancy checks)."""
from .accounts.models import ApiToken, AuthSession, Membership, SignInCount, User  # noqa: F401
from .audit.models import AuditLog  # noqa: F401
from .core.db import Base
from .core.job_models import JobRun, OutboxMessage, PeriodicRound  # noqa: F401
from .notifications.models import Notification  # noqa: F401
from .tenants.models import Community, Invitation, Tenant  # noqa: F401

metadata = Base.metadata
from .procedures.models import ProcedureVersion  # noqa: F401,E402
from .departments.models import Department, DepartmentContact  # noqa: F401,E402
from .topics.models import (Escalation, NoticeComment, NoticeSupport, Supervision, Topic,  # noqa: F401,E402
                            TopicEvent, TopicNotice, Transfer)  # noqa: F401
from .branding.models import BrandVersion  # noqa: F401,E402
from .portal.models import ThrottleCount  # noqa: F401,E402
from .transfer.models import TenantExport  # noqa: F401,E402
from .files.models import Attachment, StorageCheck  # noqa: F401,E402
from .meetings.models import Meeting, MeetingMinutes, MeetingParticipant, MeetingTopic, WorkItem  # noqa: F401,E402
from .roster.models import DutyShift, MemberGridPair, Person, RosterImport, Station  # noqa: F401,E402
from .benchmarks.models import BenchmarkSettings, PublishedRanking, Rollup, RollupState  # noqa: F401,E402
from .integrations.models import OAuthClient, OAuthCode, WebhookDelivery, WebhookSubscription  # noqa: F401,E402
from .integrations.hotline.models import HotlineAccount, HotlineOrder, HotlineRequest  # noqa: F401,E402
