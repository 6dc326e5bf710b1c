"""Vouchers point at Merchant and Location in the merchants app. The columns and their foreign keys in the
database stay as they are (same tables): only Django's record changes."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('merchants', '0001_initial'),
        ('vouchers', '0002_ledger_insert_only'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name='voucher',
                    name='allowed_locations',
                    field=models.ManyToManyField(blank=True, help_text='Empty: at every location.', related_name='+', to='merchants.location', verbose_name='redeemable at'),
                ),
                migrations.AlterField(
                    model_name='voucher',
                    name='merchant',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='vouchers', to='merchants.merchant', verbose_name='merchant'),
                ),
                migrations.AlterField(
                    model_name='vouchertransaction',
                    name='location',
                    field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='merchants.location', verbose_name='location'),
                ),
            ],
            database_operations=[],
        ),
    ]
