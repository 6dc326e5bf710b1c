"""Merchant, Location and StaffMembership now belong to the merchants app (its 0001): the shop forgets them and
its foreign keys point there. Only Django's record changes; every table, column and row stays."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('merchants', '0001_initial'),
        ('shop', '0005_staff_flag_follows_memberships'),
        ('vouchers', '0003_merchants_app'),
        ('redemption', '0003_merchants_app'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveField(
                    model_name='staffmembership',
                    name='locations',
                ),
                migrations.AlterField(
                    model_name='order',
                    name='merchant',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='orders', to='merchants.merchant', verbose_name='merchant'),
                ),
                migrations.RemoveField(
                    model_name='staffmembership',
                    name='merchant',
                ),
                migrations.AlterField(
                    model_name='voucherproduct',
                    name='merchant',
                    field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='products', to='merchants.merchant', verbose_name='merchant'),
                ),
                migrations.RemoveField(
                    model_name='staffmembership',
                    name='user',
                ),
                migrations.DeleteModel(
                    name='Location',
                ),
                migrations.DeleteModel(
                    name='Merchant',
                ),
                migrations.DeleteModel(
                    name='StaffMembership',
                ),
            ],
            database_operations=[],
        ),
    ]
