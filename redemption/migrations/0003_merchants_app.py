"""Tokens, holds, redemptions and throttle events point at Merchant and Location in the merchants app. The
columns and their foreign keys in the database stay as they are (same tables): only Django's record changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('merchants', '0001_initial'),
        ('redemption', '0002_redemption_reversal_reason'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='apitoken',
                    name='location',
                    field=models.ForeignKey(blank=True, help_text='Empty: the token may act at every location of the merchant.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='merchants.location', verbose_name='location'),
                ),
                migrations.AlterField(
                    model_name='apitoken',
                    name='merchant',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='api_tokens', to='merchants.merchant', verbose_name='merchant'),
                ),
                migrations.AlterField(
                    model_name='hold',
                    name='location',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='merchants.location', verbose_name='location'),
                ),
                migrations.AlterField(
                    model_name='hold',
                    name='merchant',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='merchants.merchant', verbose_name='merchant'),
                ),
                migrations.AlterField(
                    model_name='redemption',
                    name='location',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='merchants.location', verbose_name='location'),
                ),
                migrations.AlterField(
                    model_name='redemption',
                    name='merchant',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='merchants.merchant', verbose_name='merchant'),
                ),
                migrations.AlterField(
                    model_name='throttleevent',
                    name='merchant',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='merchants.merchant'),
                ),
            ],
            database_operations=[],
        ),
    ]
