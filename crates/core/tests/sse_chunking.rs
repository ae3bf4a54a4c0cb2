//! Splitting a recorded stream at arbitrary byte offsets yields the same
//! events as parsing it whole.

use crate::common;

use std::sync::OnceLock;

use common::{fixture, fixtures_with_extension};
use llmops_core::sse::{SseEvent, SseParser};
use proptest::prelude::*;

/// Returns every recorded stream, plus variants with CRLF and CR line endings and a
/// leading byte order mark.
fn corpus() -> &'static Vec<(String, Vec<u8>)> {
    static CORPUS: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut bodies = Vec::new();
        for name in fixtures_with_extension("openai", ".sse")
            .into_iter()
            .chain(fixtures_with_extension("anthropic", ".sse"))
        {
            let body = fixture(&name);
            let text = String::from_utf8(body.clone()).unwrap();
            bodies.push((
                format!("{name} (CRLF)"),
                text.replace('\n', "\r\n").into_bytes(),
            ));
            bodies.push((
                format!("{name} (CR)"),
                text.replace('\n', "\r").into_bytes(),
            ));
            let mut with_bom = b"\xEF\xBB\xBF".to_vec();
            with_bom.extend_from_slice(&body);
            bodies.push((format!("{name} (BOM)"), with_bom));
            bodies.push((name, body));
        }
        bodies
    })
}

fn parse_in_pieces(body: &[u8], cuts: &[usize]) -> Vec<SseEvent> {
    let mut offsets: Vec<usize> = cuts.iter().map(|cut| cut % (body.len() + 1)).collect();
    offsets.push(0);
    offsets.push(body.len());
    offsets.sort_unstable();

    let mut parser = SseParser::new();
    let mut events = Vec::new();
    for window in offsets.windows(2) {
        parser.feed(&body[window[0]..window[1]]);
        while let Some(event) = parser.next_event().unwrap() {
            events.push(event);
        }
    }
    parser.finish();
    while let Some(event) = parser.next_event().unwrap() {
        events.push(event);
    }
    events
}

#[test]
fn line_ending_variants_agree() {
    let corpus = corpus();
    for group in corpus.chunks(4) {
        let reference = SseParser::parse_complete(&group[3].1).unwrap();
        assert!(!reference.is_empty(), "{}", group[3].0);
        for (name, body) in &group[..3] {
            assert_eq!(
                SseParser::parse_complete(body).unwrap(),
                reference,
                "{name}"
            );
        }
    }
}

#[test]
fn byte_by_byte_matches_whole() {
    for (name, body) in corpus() {
        let cuts: Vec<usize> = (0..body.len()).collect();
        assert_eq!(
            parse_in_pieces(body, &cuts),
            SseParser::parse_complete(body).unwrap(),
            "{name}"
        );
    }
}

#[test]
fn recorded_event_counts() {
    let count = |name: &str| SseParser::parse_complete(&fixture(name)).unwrap().len();
    // Chunks plus [DONE]; the tool-call stream has 8 chunks.
    assert_eq!(count("openai/chat_stream_tool_calls_include_usage.sse"), 9);
    // message_start, block start, ping, one delta, block stop, message_delta, message_stop.
    assert_eq!(count("anthropic/messages_stream_text.sse"), 7);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_split_matches_whole(
        index in 0usize..1000,
        cuts in proptest::collection::vec(any::<usize>(), 0..40),
    ) {
        let corpus = corpus();
        let (name, body) = &corpus[index % corpus.len()];
        let whole = SseParser::parse_complete(body).unwrap();
        prop_assert_eq!(parse_in_pieces(body, &cuts), whole, "{}", name);
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        body in proptest::collection::vec(any::<u8>(), 0..512),
        cuts in proptest::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut offsets: Vec<usize> = cuts.iter().map(|cut| cut % (body.len() + 1)).collect();
        offsets.push(0);
        offsets.push(body.len());
        offsets.sort_unstable();
        let mut parser = SseParser::new();
        let mut steps = 0;
        for window in offsets.windows(2) {
            parser.feed(&body[window[0]..window[1]]);
            while !matches!(parser.next_event(), Ok(None)) {
                steps += 1;
                prop_assert!(steps <= body.len() + 1, "parser did not terminate");
            }
        }
        parser.finish();
        while !matches!(parser.next_event(), Ok(None)) {
            steps += 1;
            prop_assert!(steps <= body.len() + 1, "parser did not terminate");
        }
    }
}
