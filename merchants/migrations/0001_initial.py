"""Merchant, Location and StaffMembership move here from the shop app. Their tables stay where they are
(``shop_merchant``, ``shop_location``, ``shop_staffmembership`` and its locations table): this migration changes
Django's record of which app owns them, no row and no column. The content types (and with them permissions and
admin log entries) follow the models."""

from typing import Any

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import merchants.models

MOVED_MODELS = ("merchant", "location", "staffmembership")


def content_types_follow(apps: Any, schema_editor: Any) -> None:
    _move_content_types(apps, source="shop", target="merchants")


def content_types_back(apps: Any, schema_editor: Any) -> None:
    _move_content_types(apps, source="merchants", target="shop")


def _move_content_types(apps: Any, *, source: str, target: str) -> None:
    ContentType = apps.get_model("contenttypes", "ContentType")
    for model in MOVED_MODELS:
        if not ContentType.objects.filter(app_label=target, model=model).exists():
            ContentType.objects.filter(app_label=source, model=model).update(app_label=target)


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('shop', '0005_staff_flag_follows_memberships'),
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='Merchant',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('slug', models.SlugField(help_text='Used in the shop link, e.g. /s/<slug>/.', unique=True, verbose_name='shop address')),
                        ('name', models.CharField(max_length=200, verbose_name='name')),
                        ('currency', models.CharField(default='EUR', max_length=3, validators=[merchants.models.validate_currency], verbose_name='currency')),
                        ('locale', models.CharField(choices=[('en', 'English'), ('de', 'German')], default='en', max_length=10, verbose_name='language')),
                        ('time_zone', models.CharField(default='Europe/Berlin', max_length=64, validators=[merchants.models.validate_time_zone], verbose_name='time zone')),
                        ('is_active', models.BooleanField(default=True, verbose_name='active')),
                        ('contact_email', models.EmailField(blank=True, max_length=254, verbose_name='contact email')),
                        ('phone', models.CharField(blank=True, max_length=50, verbose_name='phone')),
                        ('website', models.URLField(blank=True, verbose_name='website')),
                        ('address', models.TextField(blank=True, help_text='Street, postcode and city, as printed.', verbose_name='address')),
                        ('country', models.CharField(blank=True, help_text='ISO 3166 code, e.g. DE.', max_length=2, verbose_name='country')),
                        ('legal_name', models.CharField(blank=True, max_length=200, verbose_name='legal name')),
                        ('vat_id', models.CharField(blank=True, max_length=50, verbose_name='VAT ID')),
                        ('terms', models.TextField(blank=True, help_text="Printed on every voucher, e.g. 'Not exchangeable for cash'.", verbose_name='voucher terms')),
                        ('logo', models.ImageField(blank=True, upload_to='merchants/logos/', verbose_name='logo')),
                        ('primary_colour', models.CharField(default='#1F6F5C', max_length=7, validators=[django.core.validators.RegexValidator('^#[0-9a-fA-F]{6}$', 'Enter a colour as #RRGGBB, e.g. #1F6F5C.')], verbose_name='primary colour')),
                        ('accent_colour', models.CharField(default='#E9B44C', max_length=7, validators=[django.core.validators.RegexValidator('^#[0-9a-fA-F]{6}$', 'Enter a colour as #RRGGBB, e.g. #1F6F5C.')], verbose_name='accent colour')),
                        ('require_two_factor_for_managers', models.BooleanField(default=False, help_text='Owners and managers then confirm each login with a code from an authenticator app.', verbose_name='require two-factor login for owners and managers')),
                        ('code_format', models.CharField(choices=[('alphanumeric', 'Letters and digits (XXXX-XXXX-XXXX-XXXX)'), ('numeric', 'Digits only, for tills that take digits')], default='alphanumeric', max_length=20, verbose_name='voucher code format')),
                        ('stripe_account', models.CharField(blank=True, help_text='Connected account id (acct_...). Leave empty to be paid through the platform account.', max_length=255, null=True, verbose_name='Stripe account')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('updated_at', models.DateTimeField(auto_now=True, verbose_name='updated')),
                    ],
                    options={
                        'db_table': 'shop_merchant',
                        'verbose_name': 'merchant',
                        'verbose_name_plural': 'merchants',
                        'ordering': ['name'],
                    },
                ),
                migrations.CreateModel(
                    name='Location',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('slug', models.SlugField(verbose_name='short name')),
                        ('name', models.CharField(max_length=200, verbose_name='name')),
                        ('address', models.TextField(blank=True, verbose_name='address')),
                        ('is_active', models.BooleanField(default=True, verbose_name='active')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('merchant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='locations', to='merchants.merchant', verbose_name='merchant')),
                    ],
                    options={
                        'db_table': 'shop_location',
                        'verbose_name': 'location',
                        'verbose_name_plural': 'locations',
                        'ordering': ['merchant', 'name'],
                    },
                ),
                migrations.CreateModel(
                    name='StaffMembership',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('role', models.CharField(choices=[('owner', 'Owner'), ('manager', 'Manager'), ('cashier', 'Cashier')], max_length=20, verbose_name='role')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='created')),
                        ('locations', models.ManyToManyField(blank=True, help_text='Leave empty to allow every location.', related_name='memberships', to='merchants.location', verbose_name='locations')),
                        ('merchant', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to='merchants.merchant', verbose_name='merchant')),
                        ('user', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='memberships', to=settings.AUTH_USER_MODEL, verbose_name='user')),
                    ],
                    options={
                        'db_table': 'shop_staffmembership',
                        'verbose_name': 'staff member',
                        'verbose_name_plural': 'staff',
                        'ordering': ['merchant', 'user__username'],
                    },
                ),
                migrations.AddConstraint(
                    model_name='location',
                    constraint=models.UniqueConstraint(fields=('merchant', 'slug'), name='location_unique_slug'),
                ),
                migrations.AddConstraint(
                    model_name='staffmembership',
                    constraint=models.UniqueConstraint(fields=('user', 'merchant'), name='membership_unique_user'),
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(content_types_follow, content_types_back),
    ]
