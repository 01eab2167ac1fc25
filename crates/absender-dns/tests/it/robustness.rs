//! Garbage and floods do not bring the server down.

use crate::harness::start;
use hickory_resolver::proto::rr::RecordType;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::net::{TcpStream, UdpSocket};

#[tokio::test]
async fn malformed_packets_are_ignored_and_the_server_keeps_answering() {
    let h = start().await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let garbage: [&[u8]; 5] = [
        b"",
        b"\x00",
        &[0xff; 11],
        &[0u8; 12],
        &[
            0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x3f, b'a',
        ],
    ];
    for packet in garbage {
        socket.send_to(packet, h.addr()).await.unwrap();
    }
    let mut tcp = TcpStream::connect(h.addr()).await.unwrap();
    tcp.write_all(&[0x00, 0x05, 0xde, 0xad, 0xbe, 0xef, 0x00])
        .await
        .unwrap();
    drop(tcp);
    assert!(
        h.resolver(false)
            .lookup("spf.absender.test.", RecordType::TXT)
            .await
            .is_ok()
    );
    assert!(
        h.resolver(true)
            .lookup("spf.absender.test.", RecordType::TXT)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_bounded_flood_of_queries_leaves_the_server_answering() {
    let h = start().await;
    h.store.insert_dns_zone("acme.test", 0).await.unwrap();
    h.add_record("acme.test", "acme.test", "TXT", "v=spf1 -all")
        .await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    // A well-formed query for acme.test TXT with a varying id.
    let mut query = vec![0, 0, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 4];
    query.extend_from_slice(b"acme\x04test\x00\x00\x10\x00\x01");
    let started = Instant::now();
    let mut sent = 0u32;
    while sent < 20_000 && started.elapsed() < Duration::from_secs(5) {
        query[..2].copy_from_slice(&(sent as u16).to_be_bytes());
        socket.send_to(&query, h.addr()).await.unwrap();
        sent += 1;
    }
    let answered = tokio::time::timeout(
        Duration::from_secs(10),
        h.resolver(false).lookup("acme.test.", RecordType::TXT),
    )
    .await;
    assert!(
        matches!(answered, Ok(Ok(_))),
        "after {sent} queries: {answered:?}"
    );
}
