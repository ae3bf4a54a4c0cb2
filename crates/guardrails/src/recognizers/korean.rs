//! Korean identifiers: RRN, FRN, business and corporate registration numbers,
//! phones, passport, driver's licence and bank accounts.

use super::pattern::{Boundary, PatternRecognizer};
use super::validate::{
    brn_checksum, consistent_separator, crn_checksum, digits, group_lengths, is_valid_date,
    korean_registration_check,
};
use crate::entity::EntityType;

/// Registration-number family, given by the gender digit.
#[derive(Clone, Copy, PartialEq)]
enum Registration {
    Resident,
    Foreigner,
}

/// Scores an RRN or FRN: valid date and gender digit are required. A valid
/// check digit gives 1.0. Numbers issued since October 2020 have no check
/// digit, so a failed check keeps the finding at 0.5 with a hyphen and 0.3
/// without one (below the default threshold of 0.5).
fn registration_score(value: &str, kind: Registration) -> Option<f32> {
    let d = digits(value);
    if d.len() != 13 {
        return None;
    }
    let century = match (d[6], kind) {
        (1 | 2, Registration::Resident) | (5 | 6, Registration::Foreigner) => 1900,
        (3 | 4, Registration::Resident) | (7 | 8, Registration::Foreigner) => 2000,
        _ => return None,
    };
    if !is_valid_date(
        century + d[0] * 10 + d[1],
        d[2] * 10 + d[3],
        d[4] * 10 + d[5],
    ) {
        return None;
    }
    let expected = korean_registration_check(&d)?;
    let expected = match kind {
        Registration::Resident => expected,
        // Foreigner numbers add 2 to the check digit.
        Registration::Foreigner => (expected + 2) % 10,
    };
    if expected == d[12] {
        Some(1.0)
    } else if value.contains('-') {
        Some(0.5)
    } else {
        Some(0.3)
    }
}

fn rrn_score(value: &str) -> Option<f32> {
    registration_score(value, Registration::Resident)
}

fn frn_score(value: &str) -> Option<f32> {
    registration_score(value, Registration::Foreigner)
}

/// Business registration numbers need the check digit. Without hyphens a
/// random 10-digit number passes one time in ten, so the bare form scores low.
fn brn_score(value: &str) -> Option<f32> {
    consistent_separator(value)?;
    if !brn_checksum(&digits(value)) {
        return None;
    }
    Some(if value.contains('-') { 0.8 } else { 0.4 })
}

fn crn_score(value: &str) -> Option<f32> {
    crn_checksum(&digits(value)).then_some(0.5)
}

/// Licence region codes 11 to 26 and 28 (27 is unassigned).
fn driver_license_score(value: &str) -> Option<f32> {
    consistent_separator(value)?;
    let d = digits(value);
    let region = d[0] * 10 + d[1];
    if !(11..=26).contains(&region) && region != 28 {
        return None;
    }
    Some(if value.len() == 12 { 0.3 } else { 0.6 })
}

/// Passport type letters M, S, R, O, D and G. The new format (letter, three
/// digits, letter, four digits) is more specific than letter plus eight digits.
/// A lower-case first letter is kept at a low score and gets no context boost.
fn passport_score(value: &str) -> Option<f32> {
    let first = value.chars().next()?;
    if !"MSRODG".contains(first.to_ascii_uppercase()) {
        return None;
    }
    let new_format = value
        .chars()
        .nth(4)
        .is_some_and(|c| c.is_ascii_alphabetic());
    let base = if new_format { 0.1 } else { 0.05 };
    Some(if first.is_ascii_lowercase() {
        -base
    } else {
        base
    })
}

/// Korean mobile (010, 011, 016-019) and landline or internet phone numbers.
/// 010 numbers have a four-digit middle group, and separators must agree.
fn kr_phone_score(value: &str) -> Option<f32> {
    let local = match value.strip_prefix("+82") {
        Some(rest) => format!("0{}", rest.trim_start_matches([' ', '-'])),
        None => value.to_owned(),
    };
    let separator = consistent_separator(&local)?;
    let groups = group_lengths(&local);
    let d = digits(&local);
    if d.len() < 9 || d.len() > 11 {
        return None;
    }
    if local.starts_with("010") && d.len() != 11 {
        return None;
    }
    if separator.is_none() && groups.len() == 1 {
        return Some(0.6);
    }
    Some(0.75)
}

/// Bank accounts look like many other numbers, so they are found only next to
/// bank words, and shapes of phones and licences are left to those recognizers.
fn account_score(value: &str) -> Option<f32> {
    consistent_separator(value)?;
    let d = digits(value);
    if !(10..=14).contains(&d.len()) {
        return None;
    }
    let groups = group_lengths(value);
    let phone_like = value.starts_with('0')
        && kr_phone_score(value).is_some()
        && groups.len() == 3
        && groups[0] <= 3;
    let licence_like = groups == [2, 2, 6, 2];
    if phone_like || licence_like {
        return None;
    }
    Some(0.6)
}

const RRN_CONTEXT: &[&str] = &["주민", "rrn", "resident registration", "생년월일"];
const FRN_CONTEXT: &[&str] = &["외국인", "frn", "alien registration", "foreigner"];
const BRN_CONTEXT: &[&str] = &["사업자", "brn", "business registration", "등록번호"];
const CRN_CONTEXT: &[&str] = &["법인등록", "법인 등록", "corporate registration"];
const LICENSE_CONTEXT: &[&str] = &["면허", "운전", "driver", "licence", "license"];
const PASSPORT_CONTEXT: &[&str] = &["여권", "passport"];
const PHONE_CONTEXT: &[&str] = &[
    "전화",
    "연락처",
    "휴대폰",
    "핸드폰",
    "phone",
    "tel",
    "mobile",
    "call",
];
const BANK_CONTEXT: &[&str] = &[
    "계좌",
    "입금",
    "송금",
    "이체",
    "은행",
    "농협",
    "국민",
    "신한",
    "우리",
    "하나",
    "기업",
    "토스",
    "카카오뱅크",
    "새마을",
    "우체국",
    "bank",
    "account",
];

// Regular expressions of the recognizers below, matched on normalised text.
const KR_RRN_PATTERN: &str = r"[0-9]{6}-?[0-9]{7}";
const KR_FRN_PATTERN: &str = r"[0-9]{6}-?[0-9]{7}";
const KR_BRN_PATTERN: &str = r"[0-9]{3}-?[0-9]{2}-?[0-9]{5}";
const KR_CRN_PATTERN: &str = r"[0-9]{6}-[0-9]{7}";
const KR_DRIVER_LICENSE_PATTERN: &str = r"[0-9]{2}[- ]?[0-9]{2}[- ]?[0-9]{6}[- ]?[0-9]{2}";
const KR_PASSPORT_PATTERN: &str = r"[A-Za-z][0-9]{3}[A-Za-z][0-9]{4}|[A-Za-z][0-9]{8}";
const KR_PHONE_PATTERN: &str =
    r"(?:\+82[- ]?|0)(?:1[016789]|2|[3-6][1-5]|70|80|50[2-8]?)[-. ]?[0-9]{3,4}[-. ]?[0-9]{4}";
const KR_BANK_ACCOUNT_PATTERN: &str = r"[0-9]{2,6}(?:-[0-9]{2,6}){1,3}";

pub(crate) fn recognizers() -> Vec<PatternRecognizer> {
    let specs = [
        PatternRecognizer::new("kr_rrn", EntityType::KrRrn, KR_RRN_PATTERN, rrn_score)
            .map(|r| r.context(RRN_CONTEXT, 0.3).in_ascii_numbers()),
        PatternRecognizer::new("kr_frn", EntityType::KrFrn, KR_FRN_PATTERN, frn_score)
            .map(|r| r.context(FRN_CONTEXT, 0.3).in_ascii_numbers()),
        PatternRecognizer::new("kr_brn", EntityType::KrBrn, KR_BRN_PATTERN, brn_score)
            .map(|r| r.context(BRN_CONTEXT, 0.5).in_ascii_numbers()),
        PatternRecognizer::new("kr_crn", EntityType::KrCrn, KR_CRN_PATTERN, crn_score).map(|r| {
            r.context(CRN_CONTEXT, 0.5)
                .require_context()
                .in_ascii_numbers()
        }),
        PatternRecognizer::new(
            "kr_driver_license",
            EntityType::KrDriverLicense,
            KR_DRIVER_LICENSE_PATTERN,
            driver_license_score,
        )
        .map(|r| r.context(LICENSE_CONTEXT, 0.3).in_ascii_numbers()),
        PatternRecognizer::new(
            "kr_passport",
            EntityType::KrPassport,
            KR_PASSPORT_PATTERN,
            passport_score,
        )
        .map(|r| {
            r.boundary(Boundary::Alnum)
                .context(PASSPORT_CONTEXT, 0.5)
                .in_ascii_numbers()
        }),
        PatternRecognizer::new(
            "kr_phone",
            EntityType::PhoneNumber,
            KR_PHONE_PATTERN,
            kr_phone_score,
        )
        .map(|r| r.context(PHONE_CONTEXT, 0.2).in_ascii_numbers()),
        PatternRecognizer::new(
            "kr_bank_account",
            EntityType::KrBankAccount,
            KR_BANK_ACCOUNT_PATTERN,
            account_score,
        )
        .map(|r| {
            r.context(BANK_CONTEXT, 0.2)
                .require_context()
                .in_ascii_numbers()
        }),
    ];
    specs.into_iter().flatten().collect()
}
