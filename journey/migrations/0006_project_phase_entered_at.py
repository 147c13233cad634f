from django.conf import settings
from django.db import migrations, models


# The latest journal entry in the project's current phase, holds and resumes aside (what the
# project list used to compute per row). One UPDATE, the same SQL on SQLite and PostgreSQL.
BACKFILL = """
UPDATE journey_project SET phase_entered_at = (
    SELECT t.at FROM journey_phasetransition t
     WHERE t.project_id = journey_project.id
       AND t.organization_id = journey_project.organization_id
       AND t.to_phase = journey_project.phase
       AND t.kind NOT IN ('on_hold', 'resumed')
     ORDER BY t.seq DESC LIMIT 1
)
"""


class Migration(migrations.Migration):

    dependencies = [
        ('accounts', '0002_organization_public_id_apikey_prefix_per_org'),
        ('journey', '0005_unique_constraints_lead_with_organization'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='project',
            name='phase_entered_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.RunSQL(BACKFILL, migrations.RunSQL.noop),
        migrations.AddIndex(
            model_name='project',
            index=models.Index(condition=models.Q(('status__in', ['active', 'on_hold'])), fields=['organization', 'phase', 'phase_entered_at', 'id'], name='journey_project_open_board'),
        ),
    ]
