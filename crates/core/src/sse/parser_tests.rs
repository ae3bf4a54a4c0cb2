use super::*;

fn parse(body: &[u8]) -> Vec<SseEvent> {
    SseParser::parse_complete(body).unwrap()
}

fn data_of(events: &[SseEvent]) -> Vec<&str> {
    events.iter().map(|event| event.data.as_str()).collect()
}

/// Feeds `body` one byte at a time and collects every event.
fn parse_bytewise(body: &[u8]) -> Vec<SseEvent> {
    let mut parser = SseParser::new();
    let mut events = Vec::new();
    for byte in body {
        parser.feed(std::slice::from_ref(byte));
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
fn line_endings_lf_crlf_cr() {
    for body in [
        &b"data: a\n\ndata: b\n\n"[..],
        b"data: a\r\n\r\ndata: b\r\n\r\n",
        b"data: a\r\rdata: b\r\r",
        b"data: a\r\n\rdata: b\n\r\n",
    ] {
        assert_eq!(data_of(&parse(body)), ["a", "b"], "{body:?}");
        assert_eq!(
            data_of(&parse_bytewise(body)),
            ["a", "b"],
            "bytewise {body:?}"
        );
    }
}

#[test]
fn crlf_split_across_chunks_is_one_line_ending() {
    let mut parser = SseParser::new();
    parser.feed(b"data: a\r");
    assert_eq!(parser.next_event().unwrap(), None);
    parser.feed(b"\ndata: b\r");
    assert_eq!(parser.next_event().unwrap(), None);
    parser.feed(b"\n\r\n");
    let event = parser.next_event().unwrap().unwrap();
    assert_eq!(event.data, "a\nb");
    assert_eq!(parser.next_event().unwrap(), None);
}

#[test]
fn multiline_data_joined_with_newline() {
    let events = parse(b"data: {\"a\":\ndata:1}\ndata\n\n");
    assert_eq!(data_of(&events), ["{\"a\":\n1}\n"]);
}

#[test]
fn field_without_space_after_colon() {
    let events = parse(b"event:delta\ndata:x\n\n");
    assert_eq!(events[0].event.as_deref(), Some("delta"));
    assert_eq!(events[0].data, "x");
}

#[test]
fn only_one_leading_space_is_stripped() {
    let events = parse(b"data:  two\n\n");
    assert_eq!(events[0].data, " two");
}

#[test]
fn comments_and_unknown_fields_ignored() {
    let events = parse(b": keep-alive\n\n:\nfoo: bar\ndata: x\n: inside\n\n");
    assert_eq!(data_of(&events), ["x"]);
}

#[test]
fn event_without_data_is_not_dispatched() {
    let events = parse(b"event: ping\n\nretry: 10\n\ndata: x\n\n");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event, None);
    assert_eq!(events[0].kind(), "message");
    assert_eq!(events[0].retry, None);
}

#[test]
fn empty_data_line_dispatches_empty_event() {
    let events = parse(b"data:\n\ndata\n\n");
    assert_eq!(data_of(&events), ["", ""]);
}

#[test]
fn id_persists_and_nul_id_is_ignored() {
    let events = parse(b"id: 7\ndata: a\n\ndata: b\n\nid: x\0y\ndata: c\n\nid\ndata: d\n\n");
    let ids: Vec<_> = events.iter().map(|event| event.id.as_deref()).collect();
    assert_eq!(ids, [Some("7"), Some("7"), Some("7"), None]);
}

#[test]
fn retry_digits_only() {
    let events = parse(b"retry: 2500\ndata: a\n\nretry: 1x\ndata: b\n\nretry: 99999999999999999999999\ndata: c\n\n");
    let retries: Vec<_> = events.iter().map(|event| event.retry).collect();
    assert_eq!(retries, [Some(2500), None, None]);
}

#[test]
fn done_marker_detected() {
    let events = parse(b"data: {}\n\ndata: [DONE]\n\n");
    assert!(!events[0].is_done());
    assert!(events[1].is_done());
}

#[test]
fn stream_without_final_blank_line() {
    assert_eq!(data_of(&parse(b"data: a\n\ndata: b")), ["a", "b"]);
    assert_eq!(data_of(&parse(b"data: a\n\ndata: b\n")), ["a", "b"]);
    assert_eq!(data_of(&parse(b"data: a\r")), ["a"]);
}

#[test]
fn pending_event_waits_for_finish() {
    let mut parser = SseParser::new();
    parser.feed(b"data: tail");
    assert_eq!(parser.next_event().unwrap(), None);
    parser.finish();
    assert_eq!(parser.next_event().unwrap().unwrap().data, "tail");
    assert_eq!(parser.next_event().unwrap(), None);
}

#[test]
fn empty_input_yields_nothing() {
    assert!(parse(b"").is_empty());
    assert!(parse(b"\n\n\r\n").is_empty());
}

#[test]
fn bom_skipped_whole_and_split() {
    assert_eq!(data_of(&parse(b"\xEF\xBB\xBFdata: a\n\n")), ["a"]);
    assert_eq!(data_of(&parse_bytewise(b"\xEF\xBB\xBFdata: a\n\n")), ["a"]);
    // Only one leading BOM is removed; a second one starts the field name.
    let events = parse(b"\xEF\xBB\xBF\xEF\xBB\xBFdata: a\n\ndata: b\n\n");
    assert_eq!(data_of(&events), ["b"]);
}

#[test]
fn utf8_split_inside_character() {
    let body = "data: {\"text\":\"héllo 👋 세계\"}\n\n".as_bytes();
    let whole = parse(body);
    assert_eq!(whole[0].data, "{\"text\":\"héllo 👋 세계\"}");
    assert_eq!(parse_bytewise(body), whole);
}

#[test]
fn invalid_utf8_names_offset_and_recovers() {
    // Offset of 0xFF: "data: a\n\n" is 9 bytes, "data: ok\n" 9 more, "data: x" 7.
    let mut parser = SseParser::new();
    parser.feed(b"data: a\n\ndata: ok\ndata: x\xFFy\n\ndata: after\n\n");
    assert_eq!(parser.next_event().unwrap().unwrap().data, "a");
    let error = parser.next_event().unwrap_err();
    assert_eq!(
        error,
        SseError::InvalidUtf8 {
            field: "data",
            offset: 25
        }
    );
    assert!(error.to_string().contains("byte 25"), "{error}");
    assert_eq!(parser.next_event().unwrap().unwrap().data, "after");
}

#[test]
fn invalid_utf8_offset_survives_chunking() {
    let body = b"data: a\n\ndata: ok\ndata: x\xFFy\n\n";
    let mut parser = SseParser::new();
    let mut error = None;
    for byte in body {
        parser.feed(std::slice::from_ref(byte));
        loop {
            match parser.next_event() {
                Ok(Some(_)) => {}
                Ok(None) => break,
                Err(found) => error = Some(found),
            }
        }
    }
    assert_eq!(
        error,
        Some(SseError::InvalidUtf8 {
            field: "data",
            offset: 25
        })
    );
}

#[test]
fn invalid_utf8_in_event_drops_that_event() {
    let mut parser = SseParser::new();
    parser.feed(b"event: \xC3(\ndata: dropped\n\ndata: kept\n\n");
    let error = parser.next_event().unwrap_err();
    assert_eq!(
        error,
        SseError::InvalidUtf8 {
            field: "event",
            offset: 7
        }
    );
    assert_eq!(parser.next_event().unwrap().unwrap().data, "kept");
    assert_eq!(parser.next_event().unwrap(), None);
}

#[test]
fn oversized_event_rejected_then_recovers() {
    let mut parser = SseParser::new().with_max_event_bytes(8);
    parser.feed(b"data: 0123456789abcdef");
    let error = parser.next_event().unwrap_err();
    assert!(
        matches!(
            error,
            SseError::EventTooLarge {
                limit: 8,
                offset: 0
            }
        ),
        "{error}"
    );
    parser.feed(b"more\ndata: still\n\ndata: ok\n\n");
    assert_eq!(parser.next_event().unwrap().unwrap().data, "ok");
}

#[test]
fn oversized_multiline_event_rejected() {
    let mut parser = SseParser::new().with_max_event_bytes(8);
    parser.feed(b"data: 12345\ndata: 67890\ndata: x\n\ndata: ok\n\n");
    let error = parser.next_event().unwrap_err();
    assert!(
        matches!(error, SseError::EventTooLarge { limit: 8, .. }),
        "{error}"
    );
    assert_eq!(parser.next_event().unwrap().unwrap().data, "ok");
}

#[test]
fn offset_counts_consumed_bytes() {
    let mut parser = SseParser::new();
    parser.feed(b"data: a\n\ndata: b");
    parser.next_event().unwrap();
    assert_eq!(parser.offset(), 9);
    parser.feed(b"\n\n");
    parser.next_event().unwrap();
    assert_eq!(parser.offset(), 18);
}
