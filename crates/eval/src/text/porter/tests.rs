use super::*;

#[test]
fn stems_published_examples() {
    // Examples from Porter (1980); NLTK 3.10.4 stems them the same way.
    let cases = [
        ("caresses", "caress"),
        ("ponies", "poni"),
        ("cats", "cat"),
        ("agreed", "agre"),
        ("plastered", "plaster"),
        ("motoring", "motor"),
        ("conflated", "conflat"),
        ("hopping", "hop"),
        ("falling", "fall"),
        ("filing", "file"),
        ("relational", "relat"),
        ("generalizations", "gener"),
        ("oscillators", "oscil"),
        ("controll", "control"),
        ("roll", "roll"),
    ];
    for (word, stem) in cases {
        assert_eq!(porter_stem(word), stem, "{word}");
    }
}

#[test]
fn applies_nltk_extensions() {
    let cases = [
        ("flies", "fli"),
        ("dies", "die"),
        ("spied", "spi"),
        ("died", "die"),
        ("enjoy", "enjoy"),
        ("happy", "happi"),
        ("skies", "sky"),
        ("dying", "die"),
        ("innings", "inning"),
        ("exceed", "exceed"),
        ("radically", "radic"),
        ("geology", "geolog"),
    ];
    for (word, stem) in cases {
        assert_eq!(porter_stem(word), stem, "{word}");
    }
}

#[test]
fn short_words_only_lowercase() {
    assert_eq!(porter_stem(""), "");
    assert_eq!(porter_stem("A"), "a");
    assert_eq!(porter_stem("Is"), "is");
    assert_eq!(porter_stem("ÉS"), "és");
}

#[test]
fn non_ascii_letters_are_consonants() {
    assert_eq!(porter_stem("Naïve"), "naïv");
    assert_eq!(porter_stem("cafés"), "café");
    assert_eq!(porter_stem("ÉTUDES"), "étude");
    assert_eq!(porter_stem("東京"), "東京");
}

#[test]
fn long_y_run_does_not_overflow() {
    let word = "y".repeat(200_000);
    let stem = porter_stem(&word);
    assert_eq!(stem.len(), word.len());
    assert!(stem.ends_with('i'));
}

#[test]
fn ascii_and_char_paths_agree() {
    for word in ["generalizations", "hopefulness", "yyyy", "syzygy", "2026s"] {
        let mut bytes = word.as_bytes().to_vec();
        run_steps(&mut bytes);
        let mut chars: Vec<char> = word.chars().collect();
        run_steps(&mut chars);
        assert_eq!(
            bytes,
            chars.into_iter().collect::<String>().into_bytes(),
            "{word}"
        );
    }
}
