# The file column goes: the bytes are in AgencyDocument since 0003.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("disclosures", "0003_move_agency_documents")]

    operations = [migrations.RemoveField(model_name="agencyrequest", name="document")]
