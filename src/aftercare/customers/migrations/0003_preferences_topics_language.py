# The customer's own choices on the preferences page: preferred language and topic opt-outs.
#
# Both columns have a database default because the mirror inserts customers with plain SQL
# naming its own columns (core.bulk_rows). On SQLite, Django's AddField of a NOT NULL column
# rebuilds the whole table — which would silently drop the expression indexes 0002 created
# with SQL (prefix search). SQLite can add these columns in place (ALTER TABLE … ADD COLUMN with
# a constant default), so there the columns are added with SQL; elsewhere by the schema editor.

from django.db import migrations, models

_SQLITE_ADD = [
    'ALTER TABLE "customers_customer" ADD COLUMN "preferred_locale" varchar(10) '
    "DEFAULT '' NOT NULL",
    'ALTER TABLE "customers_customer" ADD COLUMN "topic_opt_outs" text DEFAULT \'[]\' NOT NULL '
    'CHECK ((JSON_VALID("topic_opt_outs") OR "topic_opt_outs" IS NULL))',
]
_SQLITE_DROP = [
    'ALTER TABLE "customers_customer" DROP COLUMN "topic_opt_outs"',
    'ALTER TABLE "customers_customer" DROP COLUMN "preferred_locale"',
]


def _fields():
    preferred = models.CharField(blank=True, db_default="", default="", max_length=10)
    preferred.set_attributes_from_name("preferred_locale")
    opt_outs = models.JSONField(
        blank=True, db_default=models.Value([], models.JSONField()), default=list
    )
    opt_outs.set_attributes_from_name("topic_opt_outs")
    return [preferred, opt_outs]


def add_columns(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in _SQLITE_ADD:
            schema_editor.execute(sql)
        return
    customer = apps.get_model("customers", "Customer")
    for field in _fields():
        field.model = customer
        schema_editor.add_field(customer, field)


def drop_columns(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        for sql in _SQLITE_DROP:
            schema_editor.execute(sql)
        return
    customer = apps.get_model("customers", "Customer")
    for field in reversed(_fields()):
        field.model = customer
        schema_editor.remove_field(customer, field)


class Migration(migrations.Migration):

    dependencies = [
        ('customers', '0002_tags_and_search_indexes'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name='customer',
                    name='preferred_locale',
                    field=models.CharField(blank=True, db_default='', default='', max_length=10),
                ),
                migrations.AddField(
                    model_name='customer',
                    name='topic_opt_outs',
                    field=models.JSONField(blank=True, db_default=models.Value([], models.JSONField()), default=list),
                ),
            ],
            database_operations=[
                migrations.RunPython(add_columns, drop_columns, elidable=False),
            ],
        ),
    ]
