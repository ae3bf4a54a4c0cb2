//! International recognizers: validation rules and context words.

use std::sync::Arc;

use llmops_guardrails::{Analyzer, EntityType};

fn entities(text: &str) -> Vec<(EntityType, String)> {
    Analyzer::new()
        .analyze(text)
        .unwrap()
        .iter()
        .map(|f| (f.entity, f.value(text).to_owned()))
        .collect()
}

fn found(text: &str, entity: EntityType, value: &str) -> bool {
    entities(text).contains(&(entity, value.to_owned()))
}

#[test]
fn card_needs_luhn_and_issuer() {
    assert!(found(
        "card 4111-1111-1111-1111 ok",
        EntityType::CreditCard,
        "4111-1111-1111-1111"
    ));
    assert!(found(
        "amex 3782 822463 10005",
        EntityType::CreditCard,
        "3782 822463 10005"
    ));
    assert!(entities("ts 1700000000000 ms").is_empty());
    let bad = entities("card 4111 1111 1111 1112");
    assert!(bad.is_empty(), "{bad:?}");
    assert!(entities("card 4111-1111 1111-1111").is_empty());
}

#[test]
fn iban_needs_mod97_and_length() {
    assert!(found(
        "IBAN GB82 WEST 1234 5698 7654 32.",
        EntityType::IbanCode,
        "GB82 WEST 1234 5698 7654 32"
    ));
    assert!(found(
        "DE89370400440532013000",
        EntityType::IbanCode,
        "DE89370400440532013000"
    ));
    assert!(entities("DE89370400440532013001").is_empty());
    assert!(entities("XX89370400440532013000").is_empty());
}

#[test]
fn ssn_rejects_invalid_groups() {
    assert!(found("SSN 078-05-1121", EntityType::UsSsn, "078-05-1121"));
    for bad in [
        "000-12-3456",
        "666-12-3456",
        "912-12-3456",
        "123-00-4567",
        "123-45-0000",
    ] {
        let text = format!("SSN {bad}");
        assert!(
            entities(&text).iter().all(|(e, _)| *e != EntityType::UsSsn),
            "{bad}"
        );
    }
    assert!(entities("id 078051121").is_empty());
    assert!(found("ssn 078051121", EntityType::UsSsn, "078051121"));
}

#[test]
fn ip_addresses_parsed() {
    assert!(found(
        "from 192.168.10.1 today",
        EntityType::IpAddress,
        "192.168.10.1"
    ));
    assert!(found(
        "addr 2001:db8::8a2e:370:7334",
        EntityType::IpAddress,
        "2001:db8::8a2e:370:7334"
    ));
    assert!(entities("from 300.1.2.3 today").is_empty());
    assert!(entities("at 12:30:45").is_empty());
    assert!(entities("release 1.2.3.4.5").is_empty());
}

#[test]
fn phones_international() {
    assert!(found(
        "call +1-415-555-0132",
        EntityType::PhoneNumber,
        "+1-415-555-0132"
    ));
    assert!(found(
        "tel +821012345678",
        EntityType::PhoneNumber,
        "+821012345678"
    ));
    assert!(found(
        "office (02) 9876 5432",
        EntityType::PhoneNumber,
        "(02) 9876 5432"
    ));
    assert!(found(
        "전화 +82 10-1234-5678",
        EntityType::PhoneNumber,
        "+82 10-1234-5678"
    ));
}

#[test]
fn url_email_and_dob() {
    assert!(found(
        "see https://example.com/a?b=1.",
        EntityType::Url,
        "https://example.com/a?b=1"
    ));
    assert!(found(
        "생년월일 1990.01.15 입니다",
        EntityType::DateOfBirth,
        "1990.01.15"
    ));
    assert!(found(
        "DOB: 15/01/1990",
        EntityType::DateOfBirth,
        "15/01/1990"
    ));
    assert!(entities("meeting on 1990.01.15").is_empty());
    assert!(entities("생년월일 1990.02.30").is_empty());
}

#[test]
fn crypto_wallets_validated() {
    assert!(found(
        "btc 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2",
        EntityType::CryptoWallet,
        "1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"
    ));
    assert!(found(
        "btc bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq",
        EntityType::CryptoWallet,
        "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"
    ));
    assert!(found(
        "eth 0x52908400098527886E0F7030069857D2E4169EE7",
        EntityType::CryptoWallet,
        "0x52908400098527886E0F7030069857D2E4169EE7"
    ));
    assert!(entities("btc 1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3").is_empty());
}

#[test]
fn korean_business_and_account() {
    assert!(found(
        "사업자등록번호 104-86-56659",
        EntityType::KrBrn,
        "104-86-56659"
    ));
    assert!(found(
        "국민은행 123456-04-123456 입금",
        EntityType::KrBankAccount,
        "123456-04-123456"
    ));
    assert!(entities("일련번호 123456-04-123456").is_empty());
}

#[test]
fn analyzer_shared_across_threads() {
    let analyzer = Arc::new(Analyzer::new());
    let handles: Vec<_> = (0..4)
        .map(|i| {
            let analyzer = Arc::clone(&analyzer);
            std::thread::spawn(move || {
                let text = format!("user{i}@example.com 010-1234-567{i}");
                analyzer.analyze(&text).unwrap().len()
            })
        })
        .collect();
    for handle in handles {
        assert_eq!(handle.join().unwrap(), 2);
    }
}

#[test]
fn bare_phone_needs_context() {
    assert!(found(
        "phone 4155550132",
        EntityType::PhoneNumber,
        "4155550132"
    ));
    assert!(entities("ref 4155550132").is_empty());
}

#[test]
fn corporate_number_needs_context() {
    assert!(found(
        "법인등록번호 110111-0012346",
        EntityType::KrCrn,
        "110111-0012346"
    ));
    assert!(entities("번호 110111-0012346").is_empty());
    assert!(entities("법인등록번호 110111-0012347").is_empty());
}

#[test]
fn url_stops_at_korean_particle() {
    assert!(found(
        "https://example.kr/a?b=1에서 확인",
        EntityType::Url,
        "https://example.kr/a?b=1"
    ));
    assert!(found(
        "(see https://example.com/x).",
        EntityType::Url,
        "https://example.com/x"
    ));
}
