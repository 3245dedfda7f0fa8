"""`make bench-safety`: the quick workload and what the report says about it."""

from __future__ import annotations

from bench import safetybench


def _result(mode: str, messages: int, slowest: float = 300.0) -> dict:
    tier = {
        "messages": messages,
        "batch": 32,
        "repeats": 3,
        "msgs_per_s_median": 320.0,
        "msgs_per_s_min": slowest,
        "msgs_per_s_max": 330.0,
    }
    timing = {"calls": 2000, "p50_ms": 0.5, "p99_ms": 0.8, "max_ms": 2.0}
    return {
        "machine": {"cores": 2, "cpu": "x86_64", "torch_threads": 1, "python": "3.11"},
        "version": "kindred-safety-v8",
        "mode": mode,
        "test_split_messages": 4153,
        "inline": timing,
        "inline_failsafe": timing,
        "served_quantize": "int8-fixed",
        "model_tier_served": tier,
        "model_tier_served_all_context": tier,
        "model_tier_fp32": tier,
        "int8_vs_fp32": {"messages": 4153, "decisions_changed": 0, "changed": []},
        "detoxify": None,
        "detoxify_shape": None,
    }


def test_quick_measures_the_same_seeded_sample_every_run_and_full_measures_everything():
    texts = [f"message {i} " + "word " * (i % 40) for i in range(3000)]
    quick = safetybench.workload(texts, quick=True)
    assert len(quick) == safetybench.QUICK_SAMPLE
    assert quick == safetybench.workload(texts, quick=True)
    assert set(quick) <= set(texts) and len(set(quick)) == len(quick)
    assert safetybench.workload(texts, quick=False) == texts
    # A sample, not the first messages: the split's files come writer by writer.
    assert quick != texts[: safetybench.QUICK_SAMPLE]


def test_the_report_says_what_a_quick_run_measured():
    quick = safetybench.render(_result("quick", 800))
    assert "`python -m bench.safetybench --quick`" in quick
    assert "A seeded sample of 800 of the test split's 4153 messages" in quick
    full = safetybench.render(_result("full", 4153))
    assert "--quick" not in full
    assert "The test split's messages are the model-tier workload" in full


def test_throughput_is_judged_on_the_slowest_run():
    assert "| ≥ 200 msg/s | met |" in safetybench.render(_result("quick", 800, slowest=200.0))
    assert "| ≥ 200 msg/s | missed |" in safetybench.render(_result("quick", 800, slowest=199.9))
