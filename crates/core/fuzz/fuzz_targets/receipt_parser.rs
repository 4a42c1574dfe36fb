//! Arbitrary bytes → `&str` → every receipt parser and the strict JSON parser. None of them may
//! panic, hang or allocate without bound, whatever the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mozmarket_core::{compact, json};

fuzz_target!(|data: &[u8]| {
    // The JSON parser takes bytes (its UTF-8 check is rule 9), so it sees every input.
    if let Ok(value) = json::parse(data) {
        // What is serialised parses again, and serialises to the same text. (Not to the same
        // value: like JSON.stringify, the serialiser puts array-index keys first.)
        let text = value.to_json_text();
        let again = json::parse(text.as_bytes());
        assert!(again.is_ok(), "to_json_text output does not parse: {text}");
        if let Ok(again) = again {
            assert_eq!(again.to_json_text(), text, "to_json_text is not a fixed point");
        }
    }
    let _ = json::parse_with(data, json::Limits { max_depth: 32, duplicates: json::Duplicates::LastWins });

    let Ok(receipt) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(parsed) = compact::parse_strict(receipt) {
        assert!((1..=3).contains(&parsed.parts.len()), "1 to 3 parts");
        for (i, part) in parsed.parts.iter().enumerate() {
            let _ = compact::check_header(&part.header, i);
        }
    }
    let _ = compact::parse_lenient(receipt);
    let _ = compact::add_receipt_check(receipt);
});
