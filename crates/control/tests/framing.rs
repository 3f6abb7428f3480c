//! Framing across split and merged reads, oversized frames.

use control::*;
use serde_json::json;

fn frames_of(d: &mut FrameDecoder) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    while let Some(f) = d.next_frame().unwrap() {
        out.push(f);
    }
    out
}

#[test]
fn header_is_big_endian_length() {
    let f = encode_frame(&json!({"a": 1})).unwrap();
    assert_eq!(&f[..4], &[0, 0, 0, 7]);
    assert_eq!(&f[4..], br#"{"a":1}"#);
}

#[test]
fn split_reads_byte_by_byte() {
    let msgs: Vec<_> = (0..3)
        .map(|i| {
            Request::new(
                i,
                Command::Initiate {
                    connection: format!("c{i}"),
                    child: None,
                },
            )
        })
        .collect();
    let stream: Vec<u8> = msgs.iter().flat_map(|m| encode_frame(m).unwrap()).collect();
    let mut d = FrameDecoder::new();
    let mut got = Vec::new();
    for b in &stream {
        d.push(std::slice::from_ref(b));
        got.extend(frames_of(&mut d));
    }
    assert_eq!(d.buffered(), 0);
    let parsed: Vec<Request> = got.iter().map(|f| parse_request(f).unwrap()).collect();
    assert_eq!(parsed, msgs);
}

#[test]
fn merged_reads_and_every_split_point() {
    let a = encode_frame(&Request::new(1, Command::Status)).unwrap();
    let b = encode_frame(&Request::new(2, Command::Version)).unwrap();
    let stream = [a.clone(), b.clone()].concat();
    for cut in 0..=stream.len() {
        let mut d = FrameDecoder::new();
        d.push(&stream[..cut]);
        let mut got = frames_of(&mut d);
        d.push(&stream[cut..]);
        got.extend(frames_of(&mut d));
        assert_eq!(got, vec![a[4..].to_vec(), b[4..].to_vec()], "cut at {cut}");
        assert_eq!(d.buffered(), 0);
    }
}

#[test]
fn empty_frame_is_a_frame() {
    let mut d = FrameDecoder::new();
    d.push(&[0, 0, 0, 0]);
    assert_eq!(d.next_frame().unwrap(), Some(Vec::new()));
    assert_eq!(d.next_frame().unwrap(), None);
}

#[test]
fn oversized_frame_is_refused_from_the_header_alone() {
    let mut d = FrameDecoder::new();
    // Exactly the limit is fine (only the header is here yet).
    d.push(&(MAX_FRAME as u32).to_be_bytes());
    assert!(d.next_frame().unwrap().is_none());

    let mut d = FrameDecoder::new();
    d.push(&((MAX_FRAME + 1) as u32).to_be_bytes());
    match d.next_frame() {
        Err(FrameError::TooLarge { len, max }) => {
            assert_eq!((len, max), (MAX_FRAME + 1, MAX_FRAME));
        }
        other => panic!("{other:?}"),
    }
    // The decoder stays failed and drops whatever follows.
    d.push(&[0, 0, 0, 2, b'{', b'}']);
    assert_eq!(d.buffered(), 0);
    assert!(matches!(d.next_frame(), Err(FrameError::TooLarge { .. })));

    let mut d = FrameDecoder::new();
    d.push(&[0xff, 0xff, 0xff, 0xff]);
    assert!(matches!(
        d.next_frame(),
        Err(FrameError::TooLarge {
            len: 0xffff_ffff,
            ..
        })
    ));
}

#[test]
fn frame_of_exactly_the_limit_is_accepted() {
    let mut d = FrameDecoder::with_max(10);
    d.push(&[0, 0, 0, 10]);
    d.push(b"0123456789");
    assert_eq!(d.next_frame().unwrap().as_deref(), Some(&b"0123456789"[..]));
    d.push(&[0, 0, 0, 11]);
    assert!(d.next_frame().is_err());
}

#[test]
fn encoding_refuses_oversized_messages() {
    let big = "x".repeat(MAX_FRAME);
    match encode_frame(&json!({ "s": big })) {
        Err(FrameError::TooLarge { len, max }) => {
            assert_eq!(max, MAX_FRAME);
            assert_eq!(len, MAX_FRAME + 8);
        }
        other => panic!("{other:?}"),
    }
    let fits = "x".repeat(MAX_FRAME - 8);
    assert_eq!(
        encode_frame(&json!({ "s": fits })).unwrap().len(),
        MAX_FRAME + 4
    );
}
