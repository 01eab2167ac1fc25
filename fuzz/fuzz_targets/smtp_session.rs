//! An SMTP session fed arbitrary client bytes over an in-memory pipe: it
//! must answer and end, never panic or hang.
#![no_main]

use absender_smtp::SmtpLimits;
use absender_smtp::testing::{Harness, harness};
use std::sync::OnceLock;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a runtime")
    })
}

fn shared() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        runtime().block_on(harness(SmtpLimits {
            idle_timeout: Duration::from_millis(200),
            ..SmtpLimits::default()
        }))
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let h = shared();
    runtime().block_on(async {
        let mut client = h.connect();
        client
            .write_all(data)
            .await
            .expect("the pipe takes the input");
        // The client is done: the session sees the end of input and ends.
        client.shutdown().await.expect("shutdown");
        let mut said = Vec::new();
        tokio::time::timeout(Duration::from_secs(5), client.read_to_end(&mut said))
            .await
            .expect("the session ends")
            .expect("read");
        assert!(said.starts_with(b"220 "), "every session is greeted");
        // Every reply line is well-formed: three digits and a separator.
        for line in said.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
            assert!(
                line.len() >= 4 && line[..3].iter().all(u8::is_ascii_digit),
                "{line:?}"
            );
        }
    });
});
