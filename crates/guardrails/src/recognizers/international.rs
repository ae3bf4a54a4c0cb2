//! International PII: e-mail, phone, payment card, IBAN, US SSN, IP, URL,
//! date of birth and crypto wallets.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::pattern::{Boundary, PatternRecognizer};
use super::validate::{
    base58check_valid, bech32_valid, consistent_separator, digits, group_lengths, iban_valid,
    is_valid_date, luhn, ssn_valid,
};
use crate::entity::EntityType;

fn email_score(value: &str) -> Option<f32> {
    let (local, domain) = value.rsplit_once('@')?;
    let valid = !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && domain.contains('.');
    valid.then_some(0.9)
}

/// Issuer prefixes and lengths. JCB is accepted for all of prefix 35, wider
/// than its assigned 3528-3589, because generated test cards use the whole
/// range and Luhn still applies. Prefix 9 with 16 digits follows the Korean
/// domestic-card convention. Prefixes 1 and 7 belong to no card network, so
/// 13-digit millisecond timestamps such as 1700000000000 are rejected.
fn card_issuer_matches(d: &[u32]) -> bool {
    let prefix = |n: usize| d.iter().take(n).fold(0u32, |acc, &x| acc * 10 + x);
    let len = d.len();
    let (p1, p2, p3, p4) = (prefix(1), prefix(2), prefix(3), prefix(4));
    match p1 {
        4 => matches!(len, 13 | 16 | 19),
        5 => {
            ((51..=55).contains(&p2) && len == 16)
                || (([5018, 5020, 5038].contains(&p4) || (56..=58).contains(&p2))
                    && (12..=19).contains(&len))
        }
        2 => ((2221..=2720).contains(&p4) && len == 16) || ([2131].contains(&p4) && len == 15),
        3 => {
            ((p2 == 34 || p2 == 37) && len == 15)
                || (p2 == 35 && (16..=19).contains(&len))
                || (((300..=305).contains(&p3) || p2 == 36 || p2 == 38 || p2 == 39)
                    && (14..=19).contains(&len))
        }
        6 => {
            ((p4 == 6011 || p2 == 65 || (644..=649).contains(&p3)) && (16..=19).contains(&len))
                || (p2 == 62 && (16..=19).contains(&len))
                || ([6304, 6759, 6761, 6762, 6763].contains(&p4) && (12..=19).contains(&len))
        }
        1 => p4 == 1800 && len == 15,
        9 => len == 16,
        _ => false,
    }
}

fn card_score(value: &str) -> Option<f32> {
    consistent_separator(value)?;
    let d = digits(value);
    (luhn(&d) && card_issuer_matches(&d)).then_some(0.9)
}

fn iban_score(value: &str) -> Option<f32> {
    iban_valid(value).then_some(if value.chars().any(|c| c.is_ascii_lowercase()) {
        0.7
    } else {
        0.95
    })
}

fn ssn_score(value: &str) -> Option<f32> {
    consistent_separator(value)?;
    let d = digits(value);
    if !ssn_valid(&d) {
        return None;
    }
    // Nine bare digits are common (order ids), so they need a context word.
    Some(if value.len() == 9 { 0.3 } else { 0.65 })
}

/// Generic phone numbers. A leading `+` or a bracketed area code is a strong
/// sign. Otherwise the number needs one separator used throughout, at least
/// three groups and 9 to 12 digits (or four groups and 8 digits), and must not
/// look like an SSN (3-2-4), an ISBN or an IPv4 address.
fn phone_score(value: &str) -> Option<f32> {
    let body = value.split(['x', 'e']).next().unwrap_or(value).trim_end();
    let d = digits(body);
    let groups = group_lengths(body);

    // International and bracketed forms.
    if body.starts_with('+') {
        return (8..=15).contains(&d.len()).then_some(0.7);
    }
    if body.starts_with("00") {
        return (11..=15).contains(&d.len()).then_some(0.6);
    }
    if body.starts_with('(') {
        return (8..=12).contains(&d.len()).then_some(0.6);
    }

    // National forms with one separator.
    consistent_separator(body)?;
    let short_groups = groups.iter().all(|&g| g <= 5);
    let grouped = short_groups
        && ((groups.len() >= 3 && (9..=12).contains(&d.len()))
            || (groups.len() >= 4 && (8..=12).contains(&d.len())));
    // Two groups after a trunk 0, such as `0393 1144137`.
    let trunk_pair = groups.len() == 2
        && body.starts_with('0')
        && (3..=5).contains(&groups[0])
        && (10..=11).contains(&d.len());
    let ssn_shape = groups == [3, 2, 4];
    let isbn_shape = d.len() == 13 && (body.starts_with("978") || body.starts_with("979"));
    if !(grouped || trunk_pair) || ssn_shape || isbn_shape || body.parse::<Ipv4Addr>().is_ok() {
        return None;
    }

    // Numbers with a Korean mobile prefix belong to the stricter `kr_phone`
    // rule, and no Korean or Japanese number starts with 09 other than 090.
    if body.starts_with("010")
        || (groups == [3, 4, 4] && body.starts_with("09") && !body.starts_with("090"))
    {
        return None;
    }
    Some(0.5)
}

/// Bare runs of 10 or 11 digits count as phones only next to a context
/// word, which raises the score to 0.6.
fn bare_phone_score(_value: &str) -> Option<f32> {
    Some(0.3)
}

fn ipv4_score(value: &str) -> Option<f32> {
    let address: Ipv4Addr = value.parse().ok()?;
    if address.is_unspecified() || address.is_broadcast() {
        return None;
    }
    Some(0.6)
}

fn ipv6_score(value: &str) -> Option<f32> {
    let hex_digits = value.chars().filter(char::is_ascii_hexdigit).count();
    if hex_digits < 4 {
        return None;
    }
    value.parse::<Ipv6Addr>().ok().map(|_| 0.7)
}

fn url_score(_value: &str) -> Option<f32> {
    Some(0.5)
}

fn date_score(value: &str) -> Option<f32> {
    let numbers: Vec<u32> = value
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|g| g.parse().ok())
        .collect();
    let [a, b, c] = numbers[..] else {
        return None;
    };
    let valid = if a > 31 {
        is_valid_date(a, b, c)
    } else {
        is_valid_date(c, b, a) || is_valid_date(c, a, b)
    };
    valid.then_some(0.3)
}

fn eth_score(value: &str) -> Option<f32> {
    Some(if value[2..].chars().all(|c| c.is_ascii_digit()) {
        0.3
    } else {
        0.8
    })
}

fn btc_score(value: &str) -> Option<f32> {
    let valid = if value.to_ascii_lowercase().starts_with("bc1") {
        bech32_valid(value)
    } else {
        base58check_valid(value)
    };
    valid.then_some(0.9)
}

/// Words near numbers that are identifiers of things, not people.
pub(crate) const NUMBER_NEGATIVE_CONTEXT: &[&str] = &[
    "sku",
    "product",
    "model",
    "serial",
    "order",
    "invoice",
    "isbn",
    "issn",
    "part no",
    "item",
    "tracking",
    "주문",
    "제품",
    "모델",
    "시리얼",
    "송장",
    "운송장",
    "품번",
];

/// Number identifiers plus card words, so the tail of a card number that
/// fails Luhn is not reported as a phone.
const PHONE_NEGATIVE_CONTEXT: &[&str] = &[
    "sku",
    "product",
    "model",
    "serial",
    "order",
    "invoice",
    "isbn",
    "issn",
    "part no",
    "item",
    "tracking",
    "주문",
    "제품",
    "모델",
    "시리얼",
    "송장",
    "운송장",
    "품번",
    "card",
    "카드",
    "license",
    "licence",
    "면허",
];

const PHONE_CONTEXT: &[&str] = &[
    "phone",
    "tel",
    "call",
    "mobile",
    "cell",
    "fax",
    "전화",
    "연락처",
    "휴대폰",
];
const SSN_CONTEXT: &[&str] = &["ssn", "social security", "ss#", "ss #"];
const CARD_CONTEXT: &[&str] = &["card", "visa", "mastercard", "amex", "카드", "결제"];
const DOB_CONTEXT: &[&str] = &[
    "생년월일",
    "생일",
    "출생",
    "dob",
    "d.o.b",
    "date of birth",
    "birth",
    "born",
];
const CRYPTO_CONTEXT: &[&str] = &[
    "wallet", "bitcoin", "btc", "eth", "ethereum", "지갑", "코인",
];

// Regular expressions of the recognizers below, matched on normalised text.
const EMAIL_PATTERN: &str = r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?){0,8}\.[A-Za-z]{2,24}";
const CREDIT_CARD_PATTERN: &str = r"[0-9]{4}[ -][0-9]{4}[ -][0-9]{4}[ -][0-9]{1,7}|[0-9]{4}[ -][0-9]{6}[ -][0-9]{4,5}|[0-9]{12,19}";
const IBAN_PATTERN: &str = r"[A-Za-z]{2}[0-9]{2}(?: ?[A-Za-z0-9]{4}){2,7}(?: ?[A-Za-z0-9]{1,3})?";
const US_SSN_PATTERN: &str = r"[0-9]{3}[- ][0-9]{2}[- ][0-9]{4}|[0-9]{9}";
const PHONE_PATTERN: &str = r"\+[0-9]{8,15}|(?:\+[0-9]{1,3}[ .-]?(?:\(0\)[ .-]?)?|\([0-9]{1,4}\)[ .-]?)?[0-9]{1,5}(?:[ .-][0-9]{1,8}){1,5}(?: ?(?:x|ext\.?) ?[0-9]{1,5})?";
const PHONE_BARE_PATTERN: &str = r"\+?[0-9]{10,11}";
const IPV4_PATTERN: &str = r"[0-9]{1,3}(?:\.[0-9]{1,3}){3}";
const IPV6_PATTERN: &str = r"[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7}";
// ASCII only, because Korean particles are often glued to a URL ("https://a.kr에서").
const URL_PATTERN: &str = r"(?i)https?://[A-Za-z0-9._~:/?#@!$&*+,;=%-]*[A-Za-z0-9_~/#@$&*+=%-]";
const DATE_OF_BIRTH_PATTERN: &str = r"[0-9]{4}[-./][0-9]{1,2}[-./][0-9]{1,2}|[0-9]{1,2}[-./][0-9]{1,2}[-./][0-9]{4}|[0-9]{4}년 ?[0-9]{1,2}월 ?[0-9]{1,2}일";
const ETH_WALLET_PATTERN: &str = r"0x[0-9a-fA-F]{40}";
const BTC_WALLET_PATTERN: &str = r"[13][1-9A-HJ-NP-Za-km-z]{25,34}|(?i:bc1[02-9ac-hj-np-z]{11,71})";

pub(crate) fn recognizers() -> Vec<PatternRecognizer> {
    let specs = [
        PatternRecognizer::new(
            "email",
            EntityType::EmailAddress,
            EMAIL_PATTERN,
            email_score,
        )
        .map(|r| r.boundary(Boundary::Alnum)),
        PatternRecognizer::new(
            "credit_card",
            EntityType::CreditCard,
            CREDIT_CARD_PATTERN,
            card_score,
        )
        .map(|r| {
            r.context(CARD_CONTEXT, 0.1)
                .negative_context(NUMBER_NEGATIVE_CONTEXT)
                .in_ascii_numbers()
        }),
        PatternRecognizer::new("iban", EntityType::IbanCode, IBAN_PATTERN, iban_score)
            .map(|r| r.boundary(Boundary::Alnum).in_ascii_numbers()),
        PatternRecognizer::new("us_ssn", EntityType::UsSsn, US_SSN_PATTERN, ssn_score).map(|r| {
            r.context(SSN_CONTEXT, 0.3)
                .negative_context(NUMBER_NEGATIVE_CONTEXT)
                .in_ascii_numbers()
        }),
        PatternRecognizer::new("phone", EntityType::PhoneNumber, PHONE_PATTERN, phone_score).map(
            |r| {
                r.context(PHONE_CONTEXT, 0.2)
                    .negative_context(PHONE_NEGATIVE_CONTEXT)
                    .in_ascii_numbers()
            },
        ),
        PatternRecognizer::new(
            "phone_bare",
            EntityType::PhoneNumber,
            PHONE_BARE_PATTERN,
            bare_phone_score,
        )
        .map(|r| {
            r.context(PHONE_CONTEXT, 0.3)
                .require_context()
                .negative_context(PHONE_NEGATIVE_CONTEXT)
                .in_ascii_numbers()
        }),
        PatternRecognizer::new("ipv4", EntityType::IpAddress, IPV4_PATTERN, ipv4_score)
            .map(PatternRecognizer::in_ascii_numbers),
        PatternRecognizer::new("ipv6", EntityType::IpAddress, IPV6_PATTERN, ipv6_score)
            .map(|r| r.boundary(Boundary::Alnum)),
        PatternRecognizer::new("url", EntityType::Url, URL_PATTERN, url_score)
            .map(|r| r.boundary(Boundary::None)),
        PatternRecognizer::new(
            "date_of_birth",
            EntityType::DateOfBirth,
            DATE_OF_BIRTH_PATTERN,
            date_score,
        )
        .map(|r| r.context(DOB_CONTEXT, 0.4).require_context()),
        PatternRecognizer::new(
            "eth_wallet",
            EntityType::CryptoWallet,
            ETH_WALLET_PATTERN,
            eth_score,
        )
        .map(|r| r.boundary(Boundary::Alnum).context(CRYPTO_CONTEXT, 0.2)),
        PatternRecognizer::new(
            "btc_wallet",
            EntityType::CryptoWallet,
            BTC_WALLET_PATTERN,
            btc_score,
        )
        .map(|r| r.boundary(Boundary::Alnum).context(CRYPTO_CONTEXT, 0.1)),
    ];
    specs.into_iter().flatten().collect()
}
