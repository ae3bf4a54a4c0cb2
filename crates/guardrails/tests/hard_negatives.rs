//! Numbers and tokens that look like PII but are not.

use llmops_guardrails::Analyzer;

#[test]
fn hard_negatives_have_no_findings() {
    let cases = [
        "created_at=1700000000000 ms",
        "timestamp 1700000000 seconds since epoch",
        "2024-01-15T10:30:00Z",
        "order #2024011512345 shipped",
        "주문번호 202401150012 처리 완료",
        "version 1.2.3 and v10.4.22-beta.1",
        "upgrade from 3.11.4 to 3.12.0",
        "request id 550e8400-e29b-41d4-a716-446655440000",
        "ISBN 978-3-16-148410-0",
        "ISBN 9788954643427",
        "product code AB-1234-5678-90",
        "SKU 12-3456-7890",
        "model number X200-5000-1234",
        "pi is 3.14159265358979",
        "coordinates 37.5665, 126.9780",
        "price 1,234,567 KRW",
        "commit a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0",
        "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "card ending 4242",
        "call me at 5pm on 2024-05-01",
        "010 is a binary number",
        "the year 1999 and the year 2024",
        "test sk-test here",
        "AKIA is a prefix",
    ];
    let analyzer = Analyzer::new();
    let mut failures = Vec::new();
    for text in cases {
        let findings = analyzer.analyze(text).unwrap();
        if !findings.is_empty() {
            let got: Vec<String> = findings.iter().map(ToString::to_string).collect();
            failures.push(format!("{text:?}: {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
