"""Database side of the harness, run as its own process against the database under test:

    python -m bench.djsetup setup --members N --rooms slug:kind ... --out FILE
    python -m bench.djsetup report --out FILE            (assessment counts and timings)
    python -m bench.djsetup flagbait --out FILE          (texts only the worker's model stage flags)
    python -m bench.djsetup flagbait --bodies FILE --out FILE   (which bodies, as sent, it flags)

DATABASE_URL / REDIS_URL come from the environment exactly as for the server. Accounts are made in
bulk with the ORM (no password hashing; the password is unusable), and each gets a Django session
made with SessionStore's own encoding, so sockets authenticate with an ordinary session cookie.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
import time
from datetime import timedelta


def _django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def setup(args: argparse.Namespace) -> dict:
    _django()
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.auth.hashers import make_password
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from accounts.models import Role, Stage, User
    from chat.models import Room, RoomKind

    t0 = time.monotonic()
    call_command("migrate", interactive=False, verbosity=0)
    t_migrate = time.monotonic() - t0
    backend = "accounts.backends.KindredBackend"
    password = make_password(None)
    now = timezone.now()
    tag = secrets.token_hex(3)
    with transaction.atomic():
        for i, slug in enumerate(args.rooms):
            Room.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": f"Bench {slug}"[:80],
                    "kind": RoomKind.TOPIC,
                    "description": "benchmark room",
                    "house_rules": "be kind",
                    "position": 1000 + i,
                },
            )
        users = [
            User(
                username=f"bench-{tag}-{n}",
                display_name=f"Bench {tag} {n}",
                role=Role.MEMBER,
                stage=Stage.NEWBORN,
                password=password,
                adult_confirmed_at=now,
                guidelines_accepted_at=now,
            )
            for n in range(args.members)
        ]
        users += [
            User(
                username=f"bench-{tag}-mod{n}",
                display_name=f"BenchMod {tag} {n}",
                role=Role.MODERATOR,
                password=password,
                adult_confirmed_at=now,
                guidelines_accepted_at=now,
            )
            for n in range(args.moderators)
        ]
        User.objects.bulk_create(users, batch_size=1000)
        users = list(User.objects.filter(username__startswith=f"bench-{tag}-").order_by("pk"))
        store = SessionStore()
        expire = now + timedelta(days=2)
        sessions, out = [], {"members": [], "moderators": []}
        for u in users:
            key = secrets.token_hex(16)
            data = {
                SESSION_KEY: str(u.pk),
                BACKEND_SESSION_KEY: backend,
                HASH_SESSION_KEY: u.get_session_auth_hash(),
            }
            sessions.append(
                Session(session_key=key, session_data=store.encode(data), expire_date=expire)
            )
            (out["moderators"] if u.role == Role.MODERATOR else out["members"]).append(
                {"id": u.pk, "cookie": key}
            )
        Session.objects.bulk_create(sessions, batch_size=1000)
    if connection.vendor == "sqlite":
        with connection.cursor() as c:
            c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    out["rooms"] = list(args.rooms)
    out["seconds"] = {"migrate": round(t_migrate, 2), "total": round(time.monotonic() - t0, 2)}
    return out


def report(args: argparse.Namespace) -> dict:
    """Assessment bookkeeping after a run: every message assessed once, by whom, how fast."""
    _django()
    from django.db.models import Count

    from chat.models import AssessmentState, Message
    from moderation.models import Assessment, Flag

    msgs = (
        Message.objects.filter(room__slug__in=args.rooms) if args.rooms else Message.objects.all()
    )
    total = msgs.count()
    pending = msgs.filter(assessment_state=AssessmentState.PENDING).count()
    assessments = Assessment.objects.filter(message__in=msgs)
    per_message = assessments.values("message_id", "revision").annotate(n=Count("id"))
    twice = sum(1 for row in per_message if row["n"] > 1)
    by_worker = dict(
        msgs.exclude(assessment_worker="").values_list("assessment_worker").annotate(n=Count("id"))
    )
    delays = []
    fields = {f.name for f in Assessment._meta.get_fields()}
    stamp = (
        "created_at"
        if "created_at" in fields
        else ("assessed_at" if "assessed_at" in fields else None)
    )
    if stamp:
        for created, assessed in assessments.values_list("message__created_at", stamp):
            if created and assessed:
                delays.append((assessed - created).total_seconds())
    flags = Flag.objects.filter(message__in=msgs).count()
    out = {
        "messages": total,
        "pending": pending,
        "assessments": assessments.count(),
        "assessed_twice": twice,
        "by_worker": by_worker,
        "assessment_delays": delays,
        "flags": flags,
    }
    if args.acked:
        # The load generator's acknowledged client_ids against the stored rows: an acknowledged
        # message that is not in the database was lost, whatever the delivery counts said.
        with open(args.acked) as fh:
            acked = set(json.load(fh))
        stored = set(msgs.filter(client_id__in=acked).values_list("client_id", flat=True))
        out.update(
            {
                "acked": len(acked),
                "acked_missing": len(acked - stored),
                "acked_missing_sample": sorted(acked - stored)[:10],
            }
        )
    return out


CANDIDATES = [
    "you should just be grateful your baby is healthy, lots of people have it worse",
    "honestly you are overreacting, every mum gets tired, just get on with it",
    "maybe if you tried harder you would not feel like this",
    "you chose to have a baby so stop moaning about it",
    "formula is just lazy, you should have tried harder with breastfeeding",
    "you just need to think positive and it will all be fine",
    "stop being so dramatic about a bit of lost sleep",
    "have you tried just going for a walk, depression is mostly in your head",
    "some people would love to have a baby and you are complaining",
    "it cannot be that bad, my sister had twins and managed fine",
    "you are pathetic and nobody here wants to read your whining",
    "what a ridiculous thing to say, you clearly have no idea",
]


def flagbait(args: argparse.Namespace) -> dict:
    """Texts the inline rules let through but the worker's model stage (the safety model) flags."""
    _django()
    from django.conf import settings

    from bench.loadgen import tag
    from moderation.assessing import assess_text
    from moderation.policy import MemberState, Thresholds
    from moderation.safety_model import load_safety_model

    model = load_safety_model(settings.MODERATION_SAFETY_MODEL)
    if model is None:
        return {"texts": [], "bodies": [], "why": "safety model unavailable"}
    if args.bodies:
        # After a run: which of the bodies exactly as sent are allowed inline and then acted on by
        # the model stage, i.e. should reach the moderators' live feed from the worker.
        with open(args.bodies) as fh:
            bodies = json.load(fh)
        verdicts = []
        state = MemberState()
        for i in range(0, len(bodies), 64):
            chunk = bodies[i : i + 64]
            for body, sf in zip(chunk, model.score(chunk), strict=True):
                full = assess_text(
                    body, thresholds=Thresholds(), member_state=state, scores=None, safety=sf
                )
                verdicts.append(full.inline.action == "allow" and full.model.action != "allow")
        return {"model_stage_flags": verdicts}
    # Judged on the text as the load generator sends it: the text, then its tag (bench.loadgen.tag),
    # which can still move the safety model's verdict a little. Candidates that the
    # model stage flags under at least half of a few such tags are chosen (or, if none is, the
    # three that flag under the most): this only makes bait frequent; the run decides on each
    # body as sent (`--bodies`).
    now = time.time()
    tags = [
        f" {tag(1, sid, idx, now + d)}"
        for sid, idx, d in (
            (0, 0, 0.0),
            (3, 17, 1.234567),
            (1, 250, 37.5),
            (2, 5, 3.3),
            (0, 99, 12.25),
            (3, 40, 0.5),
        )
    ]
    state = MemberState()
    counts = []
    for text in CANDIDATES:
        sent = [text + tag for tag in tags]
        k = 0
        for body, sf in zip(sent, model.score(sent), strict=True):
            full = assess_text(
                body, thresholds=Thresholds(), member_state=state, scores=None, safety=sf
            )
            k += full.inline.action == "allow" and full.model.action != "allow"
        counts.append((text, k))
    chosen = [t for t, k in counts if 2 * k >= len(tags)]
    if not chosen:
        chosen = [t for t, k in sorted(counts, key=lambda c: -c[1])[:3] if k > 0]
    return {
        "texts": chosen,
        "flags_under_tags": {t: k for t, k in counts},
        "tags": len(tags),
        "why": f"{len(chosen)} of {len(CANDIDATES)} candidates, as sent with the load generator's tag, are "
        f"acted on by the model stage only (under at least half of {len(tags)} tags, or the best three)",
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("command", choices=["setup", "report", "flagbait"])
    p.add_argument("--members", type=int, default=10)
    p.add_argument("--moderators", type=int, default=1)
    p.add_argument("--rooms", nargs="*", default=[])
    p.add_argument(
        "--bodies", help="flagbait: a JSON list of message bodies as sent, to judge one by one"
    )
    p.add_argument(
        "--acked", help="report: a JSON list of acknowledged client_ids to find among the rows"
    )
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    result = {"setup": setup, "report": report, "flagbait": flagbait}[args.command](args)
    with open(args.out, "w") as fh:
        json.dump(result, fh, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
