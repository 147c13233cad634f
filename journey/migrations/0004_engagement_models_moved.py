
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('journey', '0003_alert_senior_leader'),
    ]

    operations = [
        # The engagement models moved to the `engagement` app with their tables
        # (`db_table`): only Django's state changes here, the database keeps every row.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='clienthealthsnapshot',
                    name='client',
                ),
                migrations.RemoveField(
                    model_name='clienthealthsnapshot',
                    name='organization',
                ),
                migrations.RemoveField(
                    model_name='engagementsettings',
                    name='organization',
                ),
                migrations.RemoveField(
                    model_name='playbook',
                    name='organization',
                ),
                migrations.RemoveField(
                    model_name='surveylink',
                    name='feedback',
                ),
                migrations.RemoveField(
                    model_name='surveylink',
                    name='organization',
                ),
                migrations.DeleteModel(
                    name='Alert',
                ),
                migrations.DeleteModel(
                    name='ClientHealthSnapshot',
                ),
                migrations.DeleteModel(
                    name='EngagementSettings',
                ),
                migrations.DeleteModel(
                    name='Playbook',
                ),
                migrations.DeleteModel(
                    name='SurveyLink',
                ),
            ],
            database_operations=[],
        ),
    ]
