//! Cost vectors from recorded usage, price file parsing and cost invariants.

use std::str::FromStr;

use rust_decimal::Decimal;

use super::*;
use crate::error::Error;
use crate::types::{CompletionTokensDetails, PromptTokensDetails, Usage};

fn usd(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

/// Usage in OpenAI semantics, built the way the Anthropic backend converts
/// Anthropic usage: prompt = input + cache_creation + cache_read.
fn usage(prompt: u64, cached: u64, cache_creation: u64, completion: u64) -> Usage {
    let mut usage = Usage::new(prompt, completion);
    usage.prompt_tokens_details = Some(PromptTokensDetails {
        cached_tokens: Some(cached),
        cache_creation_tokens: Some(cache_creation),
        ..Default::default()
    });
    usage
}

fn defaults() -> PriceTable {
    PriceTable::defaults().unwrap()
}

#[test]
fn claude_37_sonnet_cache_write_vector() {
    // Anthropic usage: input 3, cache_creation_input_tokens 12,304, output 550.
    let cost = defaults()
        .cost(
            "claude-3-7-sonnet-20250219",
            &usage(3 + 12_304, 0, 12_304, 550),
        )
        .unwrap();
    assert_eq!(cost.total_usd, usd("0.054399"));
    assert_eq!(
        cost.input,
        CostLine {
            tokens: 3,
            usd: usd("0.000009")
        }
    );
    assert_eq!(
        cost.cache_write,
        CostLine {
            tokens: 12_304,
            usd: usd("0.04614")
        }
    );
    assert_eq!(
        cost.output,
        CostLine {
            tokens: 550,
            usd: usd("0.00825")
        }
    );
    assert_eq!(cost.cached_input.tokens, 0);
}

#[test]
fn claude_sonnet_4_stream_cache_write_vector() {
    // A recorded claude-sonnet-4-20250514 stream: input 18, cache write 1,031,
    // output 100, at the litellm 1.74.0 prices (3, 3.75 and 15 per million).
    let cost = defaults()
        .cost("claude-sonnet-4-20250514", &usage(18 + 1031, 0, 1031, 100))
        .unwrap();
    assert_eq!(cost.total_usd, usd("0.00542025"));
}

#[test]
fn claude_sonnet_4_stream_cache_read_vector() {
    // The matching recorded cache read: input 11, cache read 1,031, output 100.
    let cost = defaults()
        .cost("claude-sonnet-4-20250514", &usage(11 + 1031, 1031, 0, 100))
        .unwrap();
    // 11 x 3 + 1031 x 0.3 + 100 x 15 = 1842.3 per million.
    assert_eq!(cost.total_usd, usd("0.0018423"));
    assert_eq!(cost.cached_input.tokens, 1031);
}

#[test]
fn openai_cached_usage_vectors() {
    let table = defaults();
    // Recorded gpt-4o-2024-08-06 usages; 2.5 input, 1.25 cached, 10 output.
    // 140 x 2.5 + 1280 x 1.25 + 100 x 10 = 2950 per million.
    let first = table
        .cost("gpt-4o-2024-08-06", &usage(1420, 1280, 0, 100))
        .unwrap();
    assert_eq!(first.total_usd, usd("0.00295"));
    assert_eq!(first.input.tokens, 140);
    // 68 x 2.5 + 1152 x 1.25 + 100 x 10 = 2610 per million.
    let second = table
        .cost("gpt-4o-2024-08-06", &usage(1220, 1152, 0, 100))
        .unwrap();
    assert_eq!(second.total_usd, usd("0.00261"));
    assert_eq!(
        second.cached_input,
        CostLine {
            tokens: 1152,
            usd: usd("0.00144")
        }
    );
}

#[test]
fn usage_without_details_bills_all_input() {
    let cost = defaults()
        .cost("gpt-4o-mini", &Usage::new(1_000_000, 1_000_000))
        .unwrap();
    assert_eq!(cost.input.usd, usd("0.15"));
    assert_eq!(cost.output.usd, usd("0.6"));
    assert_eq!(cost.total_usd, usd("0.75"));
}

#[test]
fn reasoning_billed_once() {
    let mut usage = Usage::new(0, 1000);
    usage.completion_tokens_details = Some(CompletionTokensDetails {
        reasoning_tokens: Some(400),
        ..Default::default()
    });

    // Without a reasoning price, reasoning stays inside output.
    let plain = ModelPrice::new("test", usd("1"), usd("10"));
    let cost = plain.cost(&usage).unwrap();
    assert_eq!(cost.output.tokens, 1000);
    assert_eq!(cost.reasoning.tokens, 0);
    assert_eq!(cost.total_usd, usd("0.01"));

    // With one, the 400 reasoning tokens move to their own line.
    let split = ModelPrice::new("test", usd("1"), usd("10")).with_reasoning(usd("20"));
    let cost = split.cost(&usage).unwrap();
    assert_eq!(
        cost.output,
        CostLine {
            tokens: 600,
            usd: usd("0.006")
        }
    );
    assert_eq!(
        cost.reasoning,
        CostLine {
            tokens: 400,
            usd: usd("0.008")
        }
    );
    assert_eq!(cost.total_usd, usd("0.014"));
}

#[test]
fn cache_write_without_price_bills_input() {
    let price = ModelPrice::new("openai", usd("2"), usd("8"));
    let cost = price.cost(&usage(100, 30, 20, 0)).unwrap();
    assert_eq!(cost.input.tokens, 50);
    assert_eq!(cost.total_usd, usd("0.0002"));
}

#[test]
fn cache_counts_over_prompt_rejected() {
    let error = defaults()
        .cost("gpt-4o", &usage(1000, 900, 200, 10))
        .unwrap_err();
    assert!(matches!(error, Error::InvalidRequest { .. }), "{error:?}");
    let message = error.to_string();
    assert!(
        message.contains("900") && message.contains("200") && message.contains("1000"),
        "{message}"
    );
}

#[test]
fn reasoning_over_completion_rejected() {
    let mut usage = Usage::new(10, 5);
    usage.completion_tokens_details = Some(CompletionTokensDetails {
        reasoning_tokens: Some(6),
        ..Default::default()
    });
    let error = defaults().cost("o3", &usage).unwrap_err();
    assert!(error.to_string().contains("reasoning_tokens 6"), "{error}");
}

#[test]
fn negative_price_rejected() {
    let price = ModelPrice::new("test", usd("-1"), usd("1"));
    let error = price.cost(&Usage::new(1, 1)).unwrap_err();
    assert!(error.to_string().contains("input_per_million"), "{error}");
}

#[test]
fn unknown_model_names_model_and_fix() {
    let error = defaults()
        .cost("gpt-4o-mnii", &Usage::new(1, 1))
        .unwrap_err();
    let Error::UnknownModel { model, hint } = &error else {
        panic!("expected UnknownModel, got {error:?}");
    };
    assert_eq!(model, "gpt-4o-mnii");
    assert!(hint.contains("gpt-4o-mini"), "{hint}");
    assert!(hint.contains("PriceTable::insert"), "{hint}");
}

#[test]
fn lookup_strips_provider_prefix_only() {
    let table = defaults();
    assert_eq!(
        table.get("anthropic/claude-3-7-sonnet-20250219"),
        table.get("claude-3-7-sonnet-20250219")
    );
    assert!(table.get("openai/gpt-4o").is_some());
    assert!(
        table.get("claude-3-7-sonnet").is_none(),
        "no fuzzy match to a dated id"
    );
    assert!(
        table.get("gpt-4o-2099-01-01").is_none(),
        "no match to another version"
    );
    assert!(table.get("GPT-4O").is_none(), "names are case-sensitive");
}

#[test]
fn default_table_covers_curated_models() {
    let table = defaults();
    for model in [
        "gpt-4o",
        "gpt-4o-mini",
        "gpt-4.1",
        "gpt-4.1-mini",
        "gpt-4.1-nano",
        "o1",
        "o3",
        "o3-mini",
        "o4-mini",
        "gpt-5",
        "gpt-5-mini",
        "gpt-5-nano",
        "text-embedding-3-small",
        "text-embedding-3-large",
        "text-embedding-ada-002",
        "claude-3-5-sonnet-20241022",
        "claude-3-5-haiku-20241022",
        "claude-3-7-sonnet-20250219",
        "claude-sonnet-4-20250514",
        "claude-opus-4-20250514",
        "claude-3-opus-20240229",
        "claude-sonnet-4-5-20250929",
        "claude-haiku-4-5-20251001",
        "claude-opus-4-5-20251101",
        "gemini-2.5-pro",
        "mistral-large-latest",
    ] {
        let price = table
            .get(model)
            .unwrap_or_else(|| panic!("{model} is missing from the default table"));
        assert!(
            price.input_per_million > Decimal::ZERO,
            "{model} input price"
        );
        assert!(
            price
                .source
                .as_deref()
                .is_some_and(|source| source.starts_with("litellm")),
            "{model} source"
        );
    }
    let haiku = table.get("claude-haiku-4-5-20251001").unwrap();
    assert_eq!(haiku.provider, "anthropic");
    assert_eq!(haiku.cache_write_per_million, Some(usd("1.25")));
}

#[test]
fn user_toml_overrides_defaults() {
    let mut table = defaults();
    let user = PriceTable::from_toml_str(
        r#"
format_version = 1

[models."gpt-4o"]
provider = "openai"
input_per_million = "2"
output_per_million = "8"

[models."my-finetune"]
provider = "openai"
input_per_million = "0.000001"
output_per_million = "3.333333333333"
context_window = 4096
"#,
        "user.toml",
    )
    .unwrap();
    let before = table.len();
    table.merge(user);
    assert_eq!(table.len(), before + 1);
    assert_eq!(table.get("gpt-4o").unwrap().input_per_million, usd("2"));
    assert_eq!(table.get("gpt-4o").unwrap().cached_input_per_million, None);
    let cost = table.cost("my-finetune", &Usage::new(3, 3)).unwrap();
    assert_eq!(cost.total_usd, usd("0.000010000002999999"));
}

#[test]
fn insert_in_code() {
    let mut table = PriceTable::new();
    assert!(table.is_empty());
    table.insert(
        "local-llm",
        ModelPrice::new("local", Decimal::ZERO, Decimal::ZERO),
    );
    let cost = table.cost("local-llm", &Usage::new(100, 100)).unwrap();
    assert_eq!(cost.total_usd, Decimal::ZERO);
}

#[test]
fn toml_errors_name_entry_and_field() {
    let cases = [
        (
            "format_version = 1\n[models.m]\nprovider = \"p\"\ninput_per_million = \"abc\"\noutput_per_million = \"1\"\n",
            "input_per_million = \"abc\"",
        ),
        (
            "format_version = 1\n[models.m]\nprovider = \"p\"\ninput_per_million = \"-1\"\noutput_per_million = \"1\"\n",
            "negative",
        ),
        (
            "format_version = 1\n[models.m]\nprovider = \"p\"\ninput_per_million = 2.5\noutput_per_million = \"1\"\n",
            "write prices as decimal strings",
        ),
        (
            "format_version = 1\n[models.m]\nprovider = \"p\"\ninput_per_milion = \"1\"\noutput_per_million = \"1\"\n",
            "input_per_milion",
        ),
        ("format_version = 2\n", "format_version 2"),
        ("[models]\n", "format_version"),
    ];
    for (text, expected) in cases {
        let error = PriceTable::from_toml_str(text, "prices.toml").unwrap_err();
        let message = error.to_string();
        assert!(matches!(error, Error::InvalidConfig { .. }), "{message}");
        assert!(message.contains("prices.toml"), "{message}");
        assert!(
            message.contains(expected),
            "expected {expected:?} in {message}"
        );
    }
}

#[test]
fn litellm_json_tolerates_sample_spec_and_unknown_keys() {
    let json = r#"{
        "sample_spec": {"input_cost_per_token": 0.0, "max_input_tokens": "max input tokens, if the provider specifies it", "litellm_provider": "one of ..."},
        "claude-3-7-sonnet-20250219": {"input_cost_per_token": 3e-06, "output_cost_per_token": 1.5e-05,
            "cache_creation_input_token_cost": 3.75e-06, "cache_read_input_token_cost": 3e-07,
            "litellm_provider": "anthropic", "max_input_tokens": 200000, "supports_vision": true,
            "search_context_cost_per_query": {"search_context_size_low": 0.01}},
        "image-model": {"output_cost_per_image": 0.04, "litellm_provider": "openai"},
        "tiny": {"input_cost_per_token": 1.25e-07, "output_cost_per_token": 0.0000001}
    }"#;
    let table = PriceTable::from_litellm_json(json, "prices.json").unwrap();
    assert_eq!(table.len(), 2);
    let sonnet = table.get("claude-3-7-sonnet-20250219").unwrap();
    assert_eq!(sonnet.input_per_million, usd("3"));
    assert_eq!(sonnet.output_per_million, usd("15"));
    assert_eq!(sonnet.cache_write_per_million, Some(usd("3.75")));
    assert_eq!(sonnet.cached_input_per_million, Some(usd("0.3")));
    assert_eq!(sonnet.context_window, Some(200_000));
    assert_eq!(table.get("tiny").unwrap().input_per_million, usd("0.125"));
    assert_eq!(table.get("tiny").unwrap().output_per_million, usd("0.1"));
    assert!(PriceTable::from_litellm_json("[1, 2]", "prices.json").is_err());
}

#[test]
fn load_file_by_extension() {
    let directory =
        std::env::temp_dir().join(format!("llmops-pricing-test-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let toml_path = directory.join("prices.toml");
    std::fs::write(&toml_path, "format_version = 1\n[models.a]\nprovider = \"p\"\ninput_per_million = \"1\"\noutput_per_million = \"2\"\n").unwrap();
    let json_path = directory.join("prices.JSON");
    std::fs::write(
        &json_path,
        r#"{"b": {"input_cost_per_token": 1e-06, "output_cost_per_token": 2e-06}}"#,
    )
    .unwrap();

    assert!(
        PriceTable::load_file(&toml_path)
            .unwrap()
            .get("a")
            .is_some()
    );
    assert!(
        PriceTable::load_file(&json_path)
            .unwrap()
            .get("b")
            .is_some()
    );
    let missing = PriceTable::load_file(directory.join("missing.toml")).unwrap_err();
    assert!(missing.to_string().contains("missing.toml"), "{missing}");
    std::fs::remove_dir_all(&directory).unwrap();
}

#[test]
fn display_in_dollars() {
    let cost = defaults()
        .cost(
            "claude-3-7-sonnet-20250219",
            &usage(3 + 12_304, 0, 12_304, 550),
        )
        .unwrap();
    let expected = "\
input                   3 tokens  $0.000009
cache write         12304 tokens  $0.04614
output                550 tokens  $0.00825
total                             $0.054399";
    assert_eq!(cost.to_string(), expected);
    assert_eq!(format_usd(usd("12.5")), "$12.50");
    assert_eq!(format_usd(Decimal::ZERO), "$0.00");
    assert_eq!(format_usd(usd("3.000")), "$3.00");
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn price() -> ModelPrice {
        ModelPrice::new("test", usd("3"), usd("15"))
            .with_cached_input(usd("0.3"))
            .with_cache_write(usd("3.75"))
            .with_reasoning(usd("20"))
    }

    fn full_usage(uncached: u64, cached: u64, written: u64, output: u64, reasoning: u64) -> Usage {
        let mut usage = usage(
            uncached + cached + written,
            cached,
            written,
            output + reasoning,
        );
        usage.completion_tokens_details = Some(CompletionTokensDetails {
            reasoning_tokens: Some(reasoning),
            ..Default::default()
        });
        usage
    }

    const MAX: u64 = 1_000_000_000_000;

    proptest! {
        #[test]
        fn cost_is_never_negative_and_sums(counts in proptest::array::uniform5(0..MAX)) {
            let [uncached, cached, written, output, reasoning] = counts;
            let cost = price().cost(&full_usage(uncached, cached, written, output, reasoning)).unwrap();
            prop_assert!(!cost.total_usd.is_sign_negative());
            let sum = cost.input.usd + cost.cached_input.usd + cost.cache_write.usd + cost.output.usd + cost.reasoning.usd;
            prop_assert_eq!(sum, cost.total_usd);
        }

        #[test]
        fn cost_is_monotone_in_each_count(counts in proptest::array::uniform5(0..MAX), which in 0..5_usize, extra in 1..MAX) {
            let before = price().cost(&full_usage(counts[0], counts[1], counts[2], counts[3], counts[4])).unwrap();
            let mut grown = counts;
            grown[which] += extra;
            let after = price().cost(&full_usage(grown[0], grown[1], grown[2], grown[3], grown[4])).unwrap();
            prop_assert!(after.total_usd > before.total_usd, "{} then {}", before.total_usd, after.total_usd);
        }

        #[test]
        fn inconsistent_cache_counts_are_errors(prompt in 0..MAX, cached in 0..MAX, written in 0..MAX) {
            let result = price().cost(&usage(prompt, cached, written, 0));
            if cached + written > prompt {
                prop_assert!(result.is_err());
            } else {
                prop_assert!(result.is_ok());
            }
        }
    }
}
