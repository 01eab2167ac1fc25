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

/// A query for `name` (dotted, no final dot) of type `qtype` with id `id`.
fn query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut packet = id.to_be_bytes().to_vec();
    packet.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name.split('.') {
        packet.push(label.len() as u8);
        packet.extend_from_slice(label.as_bytes());
    }
    packet.push(0);
    packet.extend_from_slice(&qtype.to_be_bytes());
    packet.extend_from_slice(&[0, 1]);
    packet
}

/// The response code and the TC bit of each response that arrives within `wait`.
async fn responses(socket: &UdpSocket, wait: Duration) -> Vec<(u8, bool)> {
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(Ok(n)) = tokio::time::timeout(wait, socket.recv(&mut buf)).await {
        if n >= 4 {
            got.push((buf[3] & 0x0f, buf[2] & 0x02 != 0));
        }
    }
    got
}

#[tokio::test]
async fn any_is_answered_minimally_with_one_hinfo() {
    let h = start().await;
    let lookup = h
        .resolver(false)
        .lookup("spf.absender.test.", RecordType::ANY)
        .await
        .unwrap();
    let records: Vec<_> = lookup.answers().iter().collect();
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0].record_type(), RecordType::HINFO);
}

#[tokio::test]
async fn identical_responses_beyond_the_rate_limit_are_truncated_or_dropped() {
    let h = crate::harness::start_with(10, Duration::from_secs(1)).await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    for id in 0..60u16 {
        let packet = query(id, "spf.absender.test", 16);
        socket.send_to(&packet, h.addr()).await.unwrap();
    }
    let got = responses(&socket, Duration::from_millis(500)).await;
    let full = got.iter().filter(|(_, tc)| !tc).count();
    let truncated = got.iter().filter(|(_, tc)| *tc).count();
    // Ten a second (twenty if the burst straddles a second), then every
    // second one truncated and the rest dropped.
    assert!((10..=20).contains(&full), "{full} full answers");
    assert!(truncated >= 15, "{truncated} truncated");
    assert!(got.len() < 60, "some were dropped: {}", got.len());
    // Over TCP a resolver still gets its answer.
    assert!(
        h.resolver(true)
            .lookup("spf.absender.test.", RecordType::TXT)
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn a_flood_of_unknown_names_is_answered_from_memory() {
    let h = crate::harness::start_with(0, Duration::from_secs(60)).await;
    h.add_key("known", "MIIBIjAN").await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket
        .send_to(&query(1, "warm.dkim.absender.test", 16), h.addr())
        .await
        .unwrap();
    assert_eq!(
        responses(&socket, Duration::from_millis(500)).await,
        [(3, false)]
    );
    // The database is gone: what exists is known from memory.
    let reads = h.server.store_reads();
    h.store.close().await;
    for id in 0..200u16 {
        let name = format!("r{id}x.dkim.absender.test");
        socket
            .send_to(&query(id, &name, 16), h.addr())
            .await
            .unwrap();
    }
    socket
        .send_to(&query(999, "elsewhere.example", 16), h.addr())
        .await
        .unwrap();
    let got = responses(&socket, Duration::from_millis(500)).await;
    assert_eq!(got.len(), 201);
    assert_eq!(
        got.iter().filter(|(code, _)| *code == 3).count(),
        200,
        "NXDOMAIN, not SERVFAIL"
    );
    assert_eq!(
        got.iter().filter(|(code, _)| *code == 5).count(),
        1,
        "REFUSED outside"
    );
    assert_eq!(
        h.server.store_reads(),
        reads,
        "no question reached the store"
    );
}

#[tokio::test]
async fn names_that_do_not_exist_are_rate_limited_per_zone() {
    let h = crate::harness::start_with(10, Duration::from_secs(60)).await;
    h.store.insert_dns_zone("acme.test", 0).await.unwrap();
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    // Random names under the key zone: one response "kind" (NXDOMAIN of that zone).
    for id in 0..40u16 {
        let name = format!("r{id}x.dkim.absender.test");
        socket
            .send_to(&query(id, &name, 16), h.addr())
            .await
            .unwrap();
    }
    let flood = responses(&socket, Duration::from_millis(500)).await;
    let full = flood.iter().filter(|(_, tc)| !tc).count();
    assert!((10..=20).contains(&full), "{full} full NXDOMAIN answers");
    // Another zone's names, and a name that exists, keep their own budget.
    for id in 0..5u16 {
        let name = format!("r{id}x.acme.test");
        socket
            .send_to(&query(100 + id, &name, 16), h.addr())
            .await
            .unwrap();
    }
    socket
        .send_to(&query(200, "spf.absender.test", 16), h.addr())
        .await
        .unwrap();
    let others = responses(&socket, Duration::from_millis(500)).await;
    assert_eq!(others.len(), 6, "{others:?}");
    assert!(others.iter().all(|(_, tc)| !tc), "{others:?}");
    assert_eq!(others.iter().filter(|(code, _)| *code == 3).count(), 5);
}

/// `packet` with an EDNS OPT record offering `payload` bytes.
fn with_edns(mut packet: Vec<u8>, payload: u16) -> Vec<u8> {
    packet[11] = 1;
    packet.extend_from_slice(&[0, 0, 41]);
    packet.extend_from_slice(&payload.to_be_bytes());
    packet.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    packet
}

/// One whole response to what `socket` sent, within a second.
async fn response(socket: &UdpSocket) -> Vec<u8> {
    let mut buf = [0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(1), socket.recv(&mut buf))
        .await
        .expect("an answer in time")
        .unwrap();
    buf[..n].to_vec()
}

#[tokio::test]
async fn udp_answers_fit_what_the_client_takes() {
    let h = start().await;
    // A 4096-bit key: its TXT answer is longer than 512 bytes.
    h.add_key("big", &"A".repeat(736)).await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.connect(h.addr()).await.unwrap();
    socket
        .send(&query(7, "big.dkim.absender.test", 16))
        .await
        .unwrap();
    let plain = response(&socket).await;
    assert!(plain.len() <= 512, "{} bytes without EDNS", plain.len());
    assert_eq!(&plain[..2], &[0, 7]);
    assert_ne!(plain[2] & 0x02, 0, "TC set: ask again over TCP");
    socket
        .send(&with_edns(query(8, "big.dkim.absender.test", 16), 4096))
        .await
        .unwrap();
    let full = response(&socket).await;
    assert_eq!(full[2] & 0x02, 0, "not truncated with EDNS");
    assert!(
        full.len() > 512 && full.len() <= 1232,
        "{} bytes",
        full.len()
    );
    assert_eq!(u16::from_be_bytes([full[6], full[7]]), 1, "one answer");
}

#[tokio::test]
async fn bad_bodies_get_formerr_other_opcodes_notimp_and_responses_nothing() {
    let h = start().await;
    let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    socket.connect(h.addr()).await.unwrap();
    // A header that promises a question the packet does not hold.
    socket
        .send(&[0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, 0x3f, b'a'])
        .await
        .unwrap();
    let formerr = response(&socket).await;
    assert_eq!(&formerr[..2], &[0x12, 0x34]);
    assert_eq!(formerr[3] & 0x0f, 1, "FORMERR");
    // NOTIFY (opcode 4).
    let mut notify = query(9, "spf.absender.test", 6);
    notify[2] = 4 << 3;
    socket.send(&notify).await.unwrap();
    let notimp = response(&socket).await;
    assert_eq!(notimp[3] & 0x0f, 4, "NOTIMP");
    // A response (QR set) is never answered: no reflection loops.
    let mut reply = query(10, "spf.absender.test", 16);
    reply[2] |= 0x80;
    socket.send(&reply).await.unwrap();
    socket
        .send(&query(11, "spf.absender.test", 16))
        .await
        .unwrap();
    let next = response(&socket).await;
    assert_eq!(&next[..2], &[0, 11], "the response got no answer");
}

#[tokio::test]
async fn a_stopped_server_lets_go_of_its_port() {
    let h = start().await;
    let addr = h.addr();
    h.server.stop().await;
    std::net::UdpSocket::bind(addr).expect("the UDP port is free again");
}
