from django.db import migrations


def load_default_vocabulary(apps, schema_editor):
    from curation.text.vocabulary import DEFAULT_VOCABULARY, normalise_key

    Term = apps.get_model("curation", "VocabularyTerm")
    Alias = apps.get_model("curation", "VocabularyAlias")
    for kind, terms in DEFAULT_VOCABULARY.items():
        for name, aliases in terms.items():
            term, _ = Term.objects.get_or_create(kind=kind, key=normalise_key(name), defaults={"name": name})
            for raw in aliases:
                Alias.objects.get_or_create(kind=kind, key=normalise_key(raw), defaults={"term": term, "raw": raw})


class Migration(migrations.Migration):
    dependencies = [("curation", "0001_initial")]

    operations = [migrations.RunPython(load_default_vocabulary, migrations.RunPython.noop)]
