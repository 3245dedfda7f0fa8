from django.db import migrations

HOUSE_RULES = (
    "Be kind: no judging how anyone feeds, births or parents.\n"
    "Share what helped you rather than telling others what to do.\n"
    "Keep it anonymous: no full names, addresses or identifying photos.\n"
    "It's fine not to be fine. If you're in danger, use Get help or call 999."
)

ROOMS = [
    (
        "pregnancy",
        "Pregnancy",
        "stage",
        "pregnant",
        10,
        "For mums-to-be: worries, scans, sleepless nights and everything in between.",
    ),
    (
        "newborn",
        "Newborn (0–3 months)",
        "stage",
        "newborn",
        20,
        "The first weeks: feeding, no sleep, and feeling like you're doing it all wrong (you're not).",
    ),
    (
        "baby",
        "Baby (3–12 months)",
        "stage",
        "baby",
        30,
        "Regressions, weaning, going back to work and finding yourself again.",
    ),
    (
        "toddler",
        "Toddler (1–3 years)",
        "stage",
        "toddler",
        40,
        "Because postnatal doesn't stop at six weeks: for mums of toddlers.",
    ),
    (
        "birth-experiences",
        "Birth experiences",
        "topic",
        "",
        50,
        "Talk through your birth, whatever happened. Please add a content note for traumatic details.",
    ),
    (
        "feeding",
        "Feeding",
        "topic",
        "",
        60,
        "Breast, bottle, combination, tube: every way of feeding a baby is welcome here.",
    ),
    (
        "sleep-and-tiredness",
        "Sleep and tiredness",
        "topic",
        "",
        70,
        "For the 3am crowd. Naps, nights and running on empty.",
    ),
    (
        "anxiety-and-low-mood",
        "Anxiety and low mood",
        "topic",
        "",
        80,
        "A gentle space to say how you're really feeling, and hear from mums who've been there.",
    ),
]


def create_rooms(apps, schema_editor):
    Room = apps.get_model("chat", "Room")
    for slug, name, kind, stage, position, description in ROOMS:
        Room.objects.update_or_create(
            slug=slug,
            defaults={
                "name": name,
                "kind": kind,
                "stage": stage,
                "position": position,
                "description": description,
                "house_rules": HOUSE_RULES,
            },
        )


def remove_rooms(apps, schema_editor):
    Room = apps.get_model("chat", "Room")
    Room.objects.filter(slug__in=[r[0] for r in ROOMS], messages__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("chat", "0001_initial")]
    operations = [migrations.RunPython(create_rooms, remove_rooms)]
