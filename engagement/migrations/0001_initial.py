
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


MODELS = ["surveylink", "engagementsettings", "playbook", "alert", "clienthealthsnapshot"]


def move_content_types(apps, schema_editor):
    """Keep the content types (and so admin history and permissions) of the moved models."""
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="journey", model__in=MODELS).update(app_label="engagement")


def move_content_types_back(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    ContentType.objects.filter(app_label="engagement", model__in=MODELS).update(app_label="journey")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('accounts', '0001_initial'),
        ('contenttypes', '0002_remove_content_type_name'),
        ('journey', '0004_engagement_models_moved'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        # The tables exist already (created by journey's 0002/0003 under these names):
        # the models join this app's state, the database is not touched.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='SurveyLink',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('token_hash', models.CharField(max_length=64, unique=True)),
                        ('purpose', models.CharField(default='invite', max_length=10)),
                        ('opened_at', models.DateTimeField(blank=True, null=True)),
                        ('feedback', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='links', to='journey.feedback')),
                        ('organization', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.organization')),
                    ],
                    options={
                        'db_table': 'journey_surveylink',
                        'ordering': ['created_at', 'id'],
                    },
                ),
                migrations.CreateModel(
                    name='Alert',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('kind', models.CharField(choices=[('low_score', 'Low score: follow up'), ('cadence', 'Client past its touchpoint cadence'), ('stuck', 'Project past its phase target'), ('milestone_overdue', 'Milestone overdue'), ('survey_unanswered', 'Survey unanswered'), ('senior_leader', 'Senior leader overdue')], max_length=20)),
                        ('cause_key', models.CharField(max_length=200)),
                        ('title', models.CharField(max_length=300)),
                        ('message', models.TextField(blank=True)),
                        ('raised_at', models.DateTimeField()),
                        ('snoozed_until', models.DateField(blank=True, null=True)),
                        ('resolved_at', models.DateTimeField(blank=True, null=True)),
                        ('resolution_note', models.TextField(blank=True)),
                        ('assignee', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='alerts', to=settings.AUTH_USER_MODEL)),
                        ('client', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='journey.client')),
                        ('feedback', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='journey.feedback')),
                        ('milestone', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='journey.milestone')),
                        ('organization', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.organization')),
                        ('project', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='alerts', to='journey.project')),
                        ('resolved_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        'db_table': 'journey_alert',
                        'ordering': ['-raised_at', '-id'],
                        'indexes': [models.Index(fields=['organization', 'assignee', 'resolved_at'], name='journey_ale_organiz_a81c1c_idx'), models.Index(fields=['organization', 'cause_key'], name='journey_ale_organiz_6498d9_idx')],
                        'constraints': [models.UniqueConstraint(condition=models.Q(('resolved_at__isnull', True)), fields=('organization', 'cause_key'), name='journey_alert_one_open_per_cause', violation_error_message='An open alert for this cause already exists.'), models.CheckConstraint(condition=models.Q(('kind__in', ['low_score', 'cadence', 'stuck', 'milestone_overdue', 'survey_unanswered', 'senior_leader'])), name='journey_alert_kind_valid')],
                    },
                ),
                migrations.CreateModel(
                    name='ClientHealthSnapshot',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('day', models.DateField()),
                        ('score', models.PositiveSmallIntegerField(blank=True, null=True)),
                        ('components', models.JSONField(default=dict)),
                        ('client', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='health_snapshots', to='journey.client')),
                        ('organization', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.organization')),
                    ],
                    options={
                        'db_table': 'journey_clienthealthsnapshot',
                        'ordering': ['client_id', 'day'],
                        'indexes': [models.Index(fields=['organization', 'day'], name='journey_cli_organiz_14346e_idx')],
                        'constraints': [models.UniqueConstraint(fields=('client', 'day'), name='journey_health_one_per_day'), models.CheckConstraint(condition=models.Q(('score__isnull', True), ('score__lte', 100), _connector='OR'), name='journey_health_score_range')],
                    },
                ),
                migrations.CreateModel(
                    name='EngagementSettings',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('gate_surveys_disabled_for', models.JSONField(blank=True, default=list, help_text='Service models that get no automatic gate surveys.')),
                        ('health_weights', models.JSONField(blank=True, default=dict, help_text='Weight per health component (missing: default).')),
                        ('organization', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.organization')),
                    ],
                    options={
                        'verbose_name_plural': 'engagement settings',
                        'db_table': 'journey_engagementsettings',
                        'constraints': [models.UniqueConstraint(fields=('organization',), name='journey_engagement_one_per_org')],
                    },
                ),
                migrations.CreateModel(
                    name='Playbook',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('created_at', models.DateTimeField(auto_now_add=True)),
                        ('updated_at', models.DateTimeField(auto_now=True)),
                        ('service_model', models.CharField(choices=[('transactional', 'Transactional'), ('consultative', 'Consultative')], max_length=20)),
                        ('cadence_days', models.JSONField(default=dict, help_text='Phase -> days between touchpoints at most (null: no rule).')),
                        ('target_days', models.JSONField(default=dict, help_text='Phase -> target duration in days (null: no target).')),
                        ('senior_leader_expected', models.BooleanField(default=False)),
                        ('senior_leader_every_days', models.PositiveIntegerField(blank=True, null=True)),
                        ('notes', models.TextField(blank=True)),
                        ('organization', models.ForeignKey(editable=False, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='accounts.organization')),
                    ],
                    options={
                        'db_table': 'journey_playbook',
                        'ordering': ['service_model'],
                        'constraints': [models.UniqueConstraint(fields=('organization', 'service_model'), name='journey_playbook_one_per_model'), models.CheckConstraint(condition=models.Q(('service_model__in', ['transactional', 'consultative'])), name='journey_playbook_service_model_valid')],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(move_content_types, move_content_types_back),
    ]
