//! Secret recall on detect-secrets and gitleaks test data and on one sample
//! of every supported key format.

use llmops_guardrails::{Analyzer, EntityType, Finding};

fn secrets_in(text: &str) -> Vec<Finding> {
    Analyzer::new()
        .analyze(text)
        .unwrap()
        .into_iter()
        .filter(|f| f.entity.is_secret())
        .collect()
}

/// Asserts that each expected value is covered by a secret finding and
/// returns how many were.
fn covered(text: &str, expected: &[&str]) -> usize {
    let findings = secrets_in(text);
    let mut hits = 0;
    for value in expected {
        let start = text.find(value).unwrap();
        let end = start + value.len();
        let hit = findings
            .iter()
            .any(|f| f.bytes.start <= start && f.bytes.end >= end);
        if hit {
            hits += 1;
        } else {
            eprintln!("missed secret at bytes {start}..{end}");
        }
    }
    hits
}

#[test]
fn detect_secrets_each_secret_recall() {
    let text = std::fs::read_to_string("tests/data/secrets/detect-secrets/each_secret.py").unwrap();
    // The `id` line is a base64 string without a secret-like key, and
    // `red_herring` is a short hex word; neither is expected.
    let expected = [
        "c2VjcmV0IG1lc3NhZ2Ugc28geW91J2xsIG5ldmVyIGd1ZXNzIG15IHBhc3N3b3Jk",
        "8b1118b376c313ed420e5133ba91307817ed52c2",
        "whywouldyouusehttpforpasswords",
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ];
    assert_eq!(covered(&text, &expected), expected.len());
    let findings = secrets_in(&text);
    let aws = findings
        .iter()
        .find(|f| f.value(&text) == "AKIAIOSFODNN7EXAMPLE")
        .unwrap();
    assert_eq!(aws.entity, EntityType::AwsAccessKey);
    assert!(findings.iter().all(|f| f.value(&text) != "DEADBEEF"));
}

#[test]
fn private_key_block_found_whole() {
    let text = std::fs::read_to_string("tests/data/secrets/detect-secrets/private_key").unwrap();
    let findings = secrets_in(&text);
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].entity, EntityType::PrivateKey);
    assert!(
        findings[0]
            .value(&text)
            .starts_with("-----BEGIN OPENSSH PRIVATE KEY-----")
    );
    assert!(
        findings[0]
            .value(&text)
            .ends_with("-----END OPENSSH PRIVATE KEY-----")
    );
}

#[test]
fn env_files_password_found() {
    let text = std::fs::read_to_string("tests/data/secrets/gitleaks/env.prod.txt").unwrap();
    let findings = secrets_in(&text);
    assert_eq!(findings.len(), 1, "{findings:?}");
    assert_eq!(findings[0].value(&text), "8ae31cacf141669ddfb5da");
    let config = std::fs::read_to_string("tests/data/secrets/detect-secrets/config.env").unwrap();
    // `mimi=` is not a secret-like key name, so the keyword rule does not fire.
    assert!(secrets_in(&config).is_empty());
}

#[test]
fn every_key_format_found() {
    let samples: &[(EntityType, &str)] = &[
        (EntityType::AwsAccessKey, "ASIAY34FZKBOKMUTVV7A"),
        (
            EntityType::GithubToken,
            "ghp_16C7e42F292c6912E7710c838347Ae178B4a",
        ),
        (
            EntityType::GithubToken,
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
        ),
        (
            EntityType::OpenAiKey,
            "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
        ),
        (
            EntityType::AnthropicKey,
            "sk-ant-api03-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb3dEf6h-AA",
        ),
        (
            EntityType::SlackToken,
            "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUv",
        ),
        (
            EntityType::GoogleApiKey,
            "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
        ),
        (
            EntityType::HuggingFaceToken,
            "hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh",
        ),
        (EntityType::StripeKey, "sk_live_4eC39HqLyjWDarjtT1zdp7dc"),
        (
            EntityType::Jwt,
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
        ),
    ];
    for (entity, key) in samples {
        let text = format!("config: {key} end");
        let findings = secrets_in(&text);
        assert_eq!(findings.len(), 1, "{entity}: {findings:?}");
        assert_eq!(findings[0].entity, *entity);
        assert_eq!(findings[0].value(&text), *key);
    }
}

#[test]
fn jwt_needs_alg_header() {
    // Header decodes to {"typ":"JWT"} without "alg".
    let text = "eyJ0eXAiOiJKV1QifQ.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlc2lnbmF0dXJl";
    assert!(secrets_in(text).iter().all(|f| f.entity != EntityType::Jwt));
}

#[test]
fn placeholder_values_not_secrets() {
    for text in [
        "password = changeme123",
        "api_key: ${API_KEY}",
        "token=<your-token-here>",
        "password: xxxxxxxxxx",
    ] {
        assert!(secrets_in(text).is_empty(), "{text}");
    }
}

#[test]
fn secret_recall_floor() {
    let mut total = 0;
    let mut hits = 0;
    let each = std::fs::read_to_string("tests/data/secrets/detect-secrets/each_secret.py").unwrap();
    let each_expected = [
        "c2VjcmV0IG1lc3NhZ2Ugc28geW91J2xsIG5ldmVyIGd1ZXNzIG15IHBhc3N3b3Jk",
        "8b1118b376c313ed420e5133ba91307817ed52c2",
        "whywouldyouusehttpforpasswords",
        "AKIAIOSFODNN7EXAMPLE",
        "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    ];
    total += each_expected.len();
    hits += covered(&each, &each_expected);
    let env = std::fs::read_to_string("tests/data/secrets/gitleaks/env.prod.txt").unwrap();
    total += 1;
    hits += covered(&env, &["8ae31cacf141669ddfb5da"]);
    let key = std::fs::read_to_string("tests/data/secrets/detect-secrets/private_key").unwrap();
    total += 1;
    hits += covered(
        &key,
        &["somethingSuperRandomAndSecretHereThatShouldNeverBeShared"],
    );
    let recall = hits as f64 / total as f64;
    println!("secret recall: {hits}/{total} = {recall:.3}");
    assert!(recall >= 0.99, "secret recall {recall:.3} is below 0.99");
}
