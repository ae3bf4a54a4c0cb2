//! Checksums and format checks used by the recognizers.

use sha2::{Digest, Sha256};

/// Returns the ASCII digits of `value` as numbers.
pub(crate) fn digits(value: &str) -> Vec<u32> {
    value.chars().filter_map(|c| c.to_digit(10)).collect()
}

/// Returns the separators between digit groups, or `None` when they differ,
/// so `010.1234 5678` is rejected while `010-1234-5678` is kept.
pub(crate) fn consistent_separator(value: &str) -> Option<Option<char>> {
    let mut separator = None;
    for c in value.chars().filter(|c| !c.is_ascii_alphanumeric()) {
        match separator {
            None => separator = Some(c),
            Some(seen) if seen != c => return None,
            Some(_) => {}
        }
    }
    Some(separator)
}

/// Returns the lengths of the digit groups of `value`.
pub(crate) fn group_lengths(value: &str) -> Vec<usize> {
    value
        .split(|c: char| !c.is_ascii_digit())
        .filter(|g| !g.is_empty())
        .map(str::len)
        .collect()
}

/// Luhn (mod 10) check used by payment cards.
pub(crate) fn luhn(digits: &[u32]) -> bool {
    if digits.is_empty() {
        return false;
    }
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                if d * 2 > 9 { d * 2 - 9 } else { d * 2 }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// Returns true when `year-month-day` is a calendar date.
pub(crate) fn is_valid_date(year: u32, month: u32, day: u32) -> bool {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    (1..=days).contains(&day)
}

/// Weighted check digit of Korean registration numbers (RRN and FRN):
/// weights 2..9,2..5 over the first 12 digits, then `(11 - sum % 11) % 10`.
pub(crate) fn korean_registration_check(d: &[u32]) -> Option<u32> {
    const WEIGHTS: [u32; 12] = [2, 3, 4, 5, 6, 7, 8, 9, 2, 3, 4, 5];
    if d.len() != 13 {
        return None;
    }
    let sum: u32 = d.iter().zip(WEIGHTS).map(|(a, b)| a * b).sum();
    Some((11 - sum % 11) % 10)
}

/// Korean business registration number check (weights 1,3,7,1,3,7,1,3,5).
pub(crate) fn brn_checksum(d: &[u32]) -> bool {
    const WEIGHTS: [u32; 9] = [1, 3, 7, 1, 3, 7, 1, 3, 5];
    if d.len() != 10 {
        return false;
    }
    let sum: u32 = d.iter().zip(WEIGHTS).map(|(a, b)| a * b).sum::<u32>() + (d[8] * 5) / 10;
    (10 - sum % 10) % 10 == d[9]
}

/// Korean corporate registration number check (weights 1,2 alternating).
pub(crate) fn crn_checksum(d: &[u32]) -> bool {
    if d.len() != 13 {
        return false;
    }
    let sum: u32 = d[..12]
        .iter()
        .enumerate()
        .map(|(i, &x)| if i % 2 == 0 { x } else { x * 2 })
        .sum();
    (10 - sum % 10) % 10 == d[12]
}

/// IBAN lengths per country (ISO 13616 registry, common SEPA and other countries).
const IBAN_LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VG", 24),
    ("XK", 20),
];

/// Validates an IBAN: country length and ISO 7064 mod-97 check.
pub(crate) fn iban_valid(value: &str) -> bool {
    let compact: String = value
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let Some(country) = compact.get(..2) else {
        return false;
    };
    let Some(&(_, length)) = IBAN_LENGTHS.iter().find(|(code, _)| *code == country) else {
        return false;
    };
    if compact.len() != length || !compact.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let rearranged = compact[4..].chars().chain(compact[..4].chars());
    let mut remainder: u32 = 0;
    for c in rearranged {
        let value = match c.to_digit(36) {
            Some(v) => v,
            None => return false,
        };
        remainder = if value >= 10 {
            (remainder * 100 + value) % 97
        } else {
            (remainder * 10 + value) % 97
        };
    }
    remainder == 1
}

/// Validates a US SSN: area not 000, 666 or 9xx, group not 00, serial not 0000.
pub(crate) fn ssn_valid(d: &[u32]) -> bool {
    if d.len() != 9 {
        return false;
    }
    let area = d[0] * 100 + d[1] * 10 + d[2];
    let group = d[3] * 10 + d[4];
    let serial = d[5] * 1000 + d[6] * 100 + d[7] * 10 + d[8];
    let all_same = d.iter().all(|&x| x == d[0]);
    area != 0
        && area != 666
        && area < 900
        && group != 0
        && serial != 0
        && !all_same
        && d != [1, 2, 3, 4, 5, 6, 7, 8, 9]
}

/// Decodes Base58 (Bitcoin alphabet) into bytes.
fn base58_decode(value: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut bytes: Vec<u8> = Vec::new();
    for c in value.bytes() {
        let mut carry = ALPHABET.iter().position(|&a| a == c)? as u32;
        for byte in bytes.iter_mut().rev() {
            carry += u32::from(*byte) * 58;
            *byte = (carry & 0xff) as u8;
            carry >>= 8;
        }
        while carry > 0 {
            bytes.insert(0, (carry & 0xff) as u8);
            carry >>= 8;
        }
    }
    let zeros = value.bytes().take_while(|&b| b == b'1').count();
    let mut out = vec![0u8; zeros];
    out.extend(bytes);
    Some(out)
}

/// Validates a legacy Bitcoin address: Base58Check with a double-SHA-256 checksum.
pub(crate) fn base58check_valid(value: &str) -> bool {
    let Some(bytes) = base58_decode(value) else {
        return false;
    };
    if bytes.len() != 25 {
        return false;
    }
    let hash = Sha256::digest(Sha256::digest(&bytes[..21]));
    hash[..4] == bytes[21..]
}

/// Validates a bech32 or bech32m Bitcoin address checksum (BIP 173 and BIP 350).
pub(crate) fn bech32_valid(value: &str) -> bool {
    const CHARSET: &[u8] = b"qpzry9x8gf2tvdw0s3jn54khce6mua7l";
    const GENERATOR: [u32; 5] = [
        0x3b6a_57b2,
        0x2650_8e6d,
        0x1ea1_19fa,
        0x3d42_33dd,
        0x2a14_62b3,
    ];
    let lower = value.to_ascii_lowercase();
    let Some((hrp, data)) = lower.rsplit_once('1') else {
        return false;
    };
    let mut values: Vec<u32> = hrp.bytes().map(|b| u32::from(b >> 5)).collect();
    values.push(0);
    values.extend(hrp.bytes().map(|b| u32::from(b & 31)));
    for c in data.bytes() {
        match CHARSET.iter().position(|&x| x == c) {
            Some(v) => values.push(v as u32),
            None => return false,
        }
    }
    let mut check: u32 = 1;
    for v in values {
        let top = check >> 25;
        check = ((check & 0x1ff_ffff) << 5) ^ v;
        for (i, g) in GENERATOR.iter().enumerate() {
            if (top >> i) & 1 == 1 {
                check ^= g;
            }
        }
    }
    check == 1 || check == 0x2bc8_30a3
}

/// Shannon entropy in bits per character.
pub(crate) fn shannon_entropy(value: &str) -> f64 {
    let mut counts = std::collections::HashMap::new();
    let mut total = 0usize;
    for c in value.chars() {
        *counts.entry(c).or_insert(0usize) += 1;
        total += 1;
    }
    if total == 0 {
        return 0.0;
    }
    counts
        .values()
        .map(|&n| {
            let p = n as f64 / total as f64;
            -p * p.log2()
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn luhn_known_cards() {
        assert!(luhn(&digits("4111111111111111")));
        assert!(!luhn(&digits("4111111111111112")));
    }

    #[test]
    fn rrn_check_digit() {
        assert_eq!(korean_registration_check(&digits("9601211021413")), Some(3));
        assert_eq!(korean_registration_check(&digits("123")), None);
    }

    #[test]
    fn brn_check() {
        assert!(brn_checksum(&digits("1048656659")));
        assert!(!brn_checksum(&digits("1048656658")));
    }

    #[test]
    fn iban_check() {
        assert!(iban_valid("GB82 WEST 1234 5698 7654 32"));
        assert!(!iban_valid("GB82 WEST 1234 5698 7654 33"));
        assert!(!iban_valid("GB82WEST123456987654"));
    }

    #[test]
    fn ssn_rules() {
        assert!(ssn_valid(&digits("460-89-9847")));
        for bad in [
            "000-12-3456",
            "666-12-3456",
            "912-12-3456",
            "123-00-4567",
            "123-45-0000",
        ] {
            assert!(!ssn_valid(&digits(bad)), "{bad}");
        }
    }

    #[test]
    fn bitcoin_addresses() {
        assert!(base58check_valid("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN2"));
        assert!(!base58check_valid("1BvBMSEYstWetqTFn5Au4m4GFg7xJaNVN3"));
        assert!(bech32_valid("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"));
        assert!(!bech32_valid("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdw"));
    }

    #[test]
    fn dates() {
        assert!(is_valid_date(2000, 2, 29));
        assert!(!is_valid_date(2001, 2, 29));
        assert!(!is_valid_date(1999, 13, 1));
    }
}
