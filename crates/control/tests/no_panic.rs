//! Whatever arrives on the socket, the decoder and the request parser answer without panicking.

use control::*;
use proptest::prelude::*;

proptest! {
    #[test]
    fn any_bytes_in_any_chunks(data in proptest::collection::vec(any::<u8>(), 0..2048),
                               cuts in proptest::collection::vec(0usize..2048, 0..8)) {
        let mut d = FrameDecoder::with_max(4096);
        let mut cuts = cuts;
        cuts.push(data.len());
        cuts.sort_unstable();
        let mut start = 0;
        for c in cuts {
            let end = c.min(data.len());
            if end < start { continue; }
            d.push(&data[start..end]);
            start = end;
            while let Ok(Some(frame)) = d.next_frame() {
                prop_assert!(frame.len() <= 4096);
                let _ = parse_request(&frame);
            }
        }
    }

    #[test]
    fn any_json_shaped_request(v in 0u64..4, id in any::<u64>(), cmd in "[a-z_]{0,10}",
                               key in "[a-z_]{0,10}", n in any::<i64>()) {
        let text = format!(
            r#"{{"v": {v}, "id": {id}, "command": "{cmd}", "args": {{"{key}": {n}}}}}"#
        );
        match parse_request(text.as_bytes()) {
            Ok(req) => prop_assert_eq!(req.id, id),
            Err(resp) => prop_assert!(!resp.is_ok()),
        }
    }
}
