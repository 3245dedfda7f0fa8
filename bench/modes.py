"""The benchmark's modes (full, quick, smoke) and their settings: read by bench.cli to run a mode
and by bench.report to say which settings a run changed. Its own module, importing nothing of
the bench, so that neither of those needs the other."""

from __future__ import annotations

from typing import Any

# Every figure that decides a target is found by scenarios.Search: bracket (double until a step
# fails, or halve until one passes), then bisect until the last pass and the first failure are
# within 5 % (a target of ±10 % cannot be read off √2 steps, which only give 1.00/0.71/0.50). The
# bounds are wide so a figure rarely sits at one; when it does it is printed "≥"/"≤" and decides
# nothing.
SEARCH = {"factor": 2.0, "resolution": 1.05}

#: The soak's mixed load, the same in full and quick mode (only its length and rejoin period
#: differ): together well below the moderated capacity of one room of 20 in the same layout.
SOAK_LOAD: dict[str, Any] = {
    "soak_rooms": 40,
    "soak_room_sizes": [2, 60],
    "soak_msgs_per_s": 1.5,
    "soak_reactions_per_s": 1.0,
    "soak_typing_per_s": 0.5,
    "soak_edit_share": 0.1,
    "soak_edit_after": [5, 60],
    "soak_offline_s": 5,
    "soak_ping_s": 25,
}

MODES: dict[str, dict[str, Any]] = {
    "full": {
        "reps": 3,
        "step_seconds": 3.0,
        "search": SEARCH,
        "fanout_sizes": [10, 100, 500],
        "fanout_baseline_start": 32000,
        "fanout_bounds": (100, 400000),
        "samework_production_sizes": [10, 100, 500],
        "modcost_size": 50,
        "modcost_ladder": [2.5, 2560],
        "modcost_start": 113,
        "modcost_production": True,
        "modcost_aa": True,
        "class_models": ["original", "original-small", "unbiased"],
        "class_n": 32,
        "class_reps": 3,
        # Kindred's safety model, int8 (served) vs fp32, on this many test-split messages.
        "class_safety_n": 500,
        "flag_capacity_burst": 96,
        "flag_seconds": 30,
        "flag_burst_seconds": 10,
        "idle_sockets": 5000,
        "idle_procs": 4,
        "idle_seconds": 40,
        "idle_quiet_seconds": 20,
        "idle_connect_deadline": 420,
        "scale_size": 40,
        "scale_ladder": [10],
        "scale_search": {"lo": 1.0, "hi": 5000.0},
        "join_timeout": 180,
        # Moderated capacity (bench.modcap): a room of 20, searched like every capacity; both
        # layouts (production's when PostgreSQL and Redis answer).
        "modcap_size": 20,
        "modcap_step_seconds": 10.0,
        "modcap_start": 8.0,
        "modcap_bounds": (0.5, 1280.0),
        "modcap_production": True,
        "modcap_drain_seconds": 120,
        # Overload (bench.overload): 1.5× and then 2× the room's capacity for this long each,
        # then half the capacity for this long while it recovers.
        "overload_burst_seconds": 30,
        "overload_after_seconds": 60,
        "overload_grace_seconds": 5,
        "overload_drain_seconds": 180,
        # Soak (bench.soak): `make run`'s layout under a modest mixed load for 30 minutes, the
        # web process's RSS, fds and threads sampled throughout. The rates are fixed: together
        # well below the moderated capacity of one room of 20 in the same layout.
        "soak": True,
        "soak_seconds": 1800,
        **SOAK_LOAD,
        "soak_rejoin_every_s": 300,
        "soak_sample_s": 10,
        "soak_tail_s": 10,
    },
    # Quick: one repetition, shorter steps and grace.
    "quick": {
        "reps": 1,
        "step_seconds": 1.5,
        "grace": 0.5,
        "search": SEARCH,
        "fanout_sizes": [10, 100, 500],
        "fanout_baseline_start": 32000,
        "fanout_bounds": (100, 400000),
        "samework_production_sizes": [100],
        "modcost_size": 50,
        "modcost_ladder": [2.5, 2560],
        "modcost_start": 113,
        "modcost_production": False,
        # The A/A run (off vs off: the noise floor) costs one more search: full mode, or --set modcost_aa=true.
        "modcost_aa": False,
        "class_models": ["original"],
        "class_n": 16,
        "class_n_opt": 64,
        "class_reps": 2,
        "class_safety_n": 150,
        "flag_capacity_burst": 64,
        "flag_seconds": 10,
        "flag_burst_seconds": 5,
        "flag_int8": False,
        # The idle window without pings (what the pings cost, by difference) is full mode's.
        "idle_sockets": 5000,
        "idle_procs": 4,
        "idle_seconds": 20,
        "idle_quiet_seconds": 0,
        "idle_connect_deadline": 240,
        "scale_size": 20,
        "scale_ladder": [20],
        "scale_search": {"lo": 1.0, "hi": 5000.0},
        "join_timeout": 60,
        "modcap_size": 20,
        "modcap_step_seconds": 5.0,
        "modcap_start": 8.0,
        "modcap_bounds": (0.5, 1280.0),
        "modcap_production": True,
        "modcap_drain_seconds": 60,
        "overload_burst_seconds": 10,
        "overload_after_seconds": 20,
        "overload_grace_seconds": 3,
        "overload_drain_seconds": 90,
        # The soak is full mode's; `--set soak=true` runs a 5-minute one here.
        "soak": False,
        "soak_seconds": 300,
        **SOAK_LOAD,
        "soak_rejoin_every_s": 120,
        "soak_sample_s": 5,
        "soak_tail_s": 10,
    },
    "smoke": {
        "reps": 1,
        "step_seconds": 1.0,
        "fanout_sizes": [5],
        "fanout_baseline_start": 50,
        "fanout_bounds": (25, 200),
        # The production layout's same-work comparison too, when PostgreSQL and Redis are up.
        "samework_production_sizes": [5],
        "idle_sockets": 30,
        "idle_procs": 1,
        "idle_seconds": 2,
        "idle_quiet_seconds": 1,
        "idle_prime_seconds": 1,
        "idle_connect_deadline": 60,
        "sendprof_n": 8,
        # Moderated capacity at a tiny size, rules only (no model), embedded layout: exercises
        # the step loop's moderation checks, measures nothing about the product.
        "modcap_size": 4,
        "modcap_step_seconds": 2.0,
        "modcap_start": 2.0,
        "modcap_bounds": (2.0, 4.0),
        "modcap_production": False,
        "modcap_drain_seconds": 20,
        # Overload at the smoke's tiny size: checks the harness, measures nothing.
        "overload_burst_seconds": 2,
        "overload_after_seconds": 3,
        "overload_grace_seconds": 1,
        "overload_drain_seconds": 20,
        # A soak of 24 s in 5 rooms of 2–8, every action and a rejoin or two per socket: checks
        # the harness; far too short for the flatness rule to decide.
        "soak": True,
        "soak_seconds": 24,
        "soak_rooms": 5,
        "soak_room_sizes": [2, 8],
        "soak_msgs_per_s": 2.0,
        "soak_reactions_per_s": 1.0,
        "soak_typing_per_s": 0.5,
        "soak_edit_share": 0.25,
        "soak_edit_after": [1, 4],
        "soak_rejoin_every_s": 8,
        "soak_offline_s": 1,
        "soak_ping_s": 3,
        "soak_sample_s": 1,
        "soak_tail_s": 3,
    },
}
