use super::*;

fn lexicon() -> ToxicityLexicon {
    ToxicityLexicon::parse(
        "# test terms\n[insult]\nnitwit\nass\n[threat]\nhunt you down\n[identity_attack]\ndummkopf\n[profanity]\nf.u.c.k\nmerde\n",
    )
    .unwrap()
}

fn categories(text: &str) -> Vec<EntityType> {
    lexicon().find(text).iter().map(|f| f.entity).collect()
}

#[test]
fn whole_words_match_case_folded() {
    assert_eq!(categories("You NITWIT!"), [EntityType::Insult]);
    assert_eq!(categories("what an ass."), [EntityType::Insult]);
}

#[test]
fn substrings_inside_words_do_not_match() {
    for text in [
        "Scunthorpe and Assessment",
        "nitwits",
        "class assignment",
        "embarrassment",
        "passion",
    ] {
        assert!(categories(text).is_empty(), "{text:?}");
    }
}

#[test]
fn multi_word_term_needs_consecutive_words() {
    assert_eq!(categories("I will hunt  you\tdown."), [EntityType::Threat]);
    assert!(categories("hunt for you going down").is_empty());
}

#[test]
fn punctuated_term_matches_spelled_out_forms() {
    for text in ["f u c k", "f-u-c-k", "F.U.C.K."] {
        assert_eq!(categories(text), [EntityType::Profanity], "{text:?}");
    }
}

#[test]
fn unicode_text_matches_with_offsets() {
    let text = "Tu es un DUMMKOPF, ça c'est MERDE 🎉";
    let findings = lexicon().find(text);
    let entities: Vec<EntityType> = findings.iter().map(|f| f.entity).collect();
    assert_eq!(
        entities,
        [EntityType::IdentityAttack, EntityType::Profanity]
    );
    assert_eq!(findings[0].value(text), "DUMMKOPF");
    assert_eq!(findings[1].value(text), "MERDE");
    let char_start = text[..findings[1].bytes.start].chars().count();
    assert_eq!(findings[1].chars.start, char_start);
}

#[test]
fn full_width_and_zero_width_forms_match() {
    // NFKC maps full-width letters to ASCII; zero-width spaces are removed.
    assert_eq!(categories("ｎｉｔｗｉｔ"), [EntityType::Insult]);
    assert_eq!(categories("nit\u{200b}wit"), [EntityType::Insult]);
}

#[test]
fn letters_with_accents_stay_one_word() {
    let lexicon = ToxicityLexicon::parse("[insult]\ncrétin\n").unwrap();
    assert_eq!(lexicon.find("quel crétin").len(), 1);
    // NOTE: normalisation runs NFKC per character, so a decomposed é
    // (e + U+0301) stays decomposed and misses the composed term.
    assert_eq!(lexicon.find("quel cre\u{301}tin").len(), 0);
    assert!(lexicon.find("crétinisme").is_empty());
}

#[test]
fn empty_input_and_empty_lexicon_find_nothing() {
    assert!(lexicon().find("").is_empty());
    assert!(ToxicityLexicon::new().find("nitwit").is_empty());
    let verdict = ToxicityGuard::new(lexicon())
        .check("", Stage::Output)
        .unwrap();
    assert_eq!(verdict.action, Action::Allow);
}

#[test]
fn longest_term_wins_at_same_start() {
    let lexicon = ToxicityLexicon::parse("[profanity]\nson\n[insult]\nson of a gun\n").unwrap();
    let findings = lexicon.find("you son of a gun");
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0].entity, EntityType::Insult);
}

#[test]
fn parse_rejects_bad_lexicons() {
    let no_section = ToxicityLexicon::parse("nitwit\n").unwrap_err();
    assert!(no_section.to_string().contains("line 1"), "{no_section}");
    let unknown = ToxicityLexicon::parse("[rude]\nx\n").unwrap_err();
    assert!(unknown.to_string().contains("`rude`"), "{unknown}");
    let pii = ToxicityLexicon::parse("[email_address]\nx\n").unwrap_err();
    assert!(pii.to_string().contains("email_address"), "{pii}");
}

#[test]
fn duplicate_and_symbol_only_terms_are_skipped() {
    let lexicon = ToxicityLexicon::parse("[insult]\nnitwit\nNitwit\n***\n").unwrap();
    assert_eq!(lexicon.len(), 1);
}

#[test]
fn bundled_list_loads_and_matches() {
    let lexicon = ToxicityLexicon::better_profanity();
    assert!(lexicon.len() > 800, "{}", lexicon.len());
    assert_eq!(lexicon.find("well, shit happens").len(), 1);
    assert!(lexicon.find("Scunthorpe class assessment").is_empty());
}

#[test]
fn guard_counts_categories_without_quoting() {
    let guard = ToxicityGuard::new(lexicon());
    let verdict = guard.check("nitwit, NITWIT, merde", Stage::Output).unwrap();
    assert_eq!(verdict.action, Action::Block);
    assert_eq!(verdict.findings.len(), 3);
    assert_eq!(
        verdict.reasons,
        ["found 2 INSULT term(s)", "found 1 PROFANITY term(s)"]
    );
    for reason in &verdict.reasons {
        assert!(!reason.to_lowercase().contains("nitwit"), "{reason}");
    }
}

#[test]
fn guard_takes_most_severe_category_action() {
    let guard = ToxicityGuard::new(lexicon())
        .with_action(Action::Allow)
        .with_category_action(EntityType::Profanity, Action::Review);
    let profanity = guard.check("merde", Stage::Output).unwrap();
    assert_eq!(profanity.action, Action::Review);
    let insult = guard.check("nitwit", Stage::Output).unwrap();
    assert_eq!(insult.action, Action::Allow);
    assert_eq!(insult.findings.len(), 1);
}

#[test]
fn guard_redacts_with_placeholders() {
    let guard = ToxicityGuard::new(lexicon()).with_action(Action::Redact);
    let verdict = guard.check("you nitwit, merde!", Stage::Output).unwrap();
    assert_eq!(verdict.action, Action::Redact);
    assert_eq!(
        verdict.replacement.as_deref(),
        Some("you <INSULT_1>, <PROFANITY_1>!")
    );
}

#[test]
fn guard_runs_only_at_chosen_stage() {
    let guard = ToxicityGuard::new(lexicon()).only_at(Stage::Output);
    assert!(guard.applies_to(Stage::Output));
    assert!(!guard.applies_to(Stage::Input));
}

#[test]
fn lexicon_reads_file() {
    let folder = std::env::temp_dir().join(format!("toxicity-{}", std::process::id()));
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join("terms.txt");
    std::fs::write(&path, "[threat]\nhunt you down\n").unwrap();
    let lexicon = ToxicityLexicon::from_file(&path).unwrap();
    assert_eq!(lexicon.len(), 1);
    let missing = ToxicityLexicon::from_file(folder.join("missing.txt")).unwrap_err();
    assert!(missing.to_string().contains("missing.txt"), "{missing}");
    std::fs::remove_dir_all(&folder).unwrap();
}
