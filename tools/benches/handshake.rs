//! The server's side of the opening handshake for a typical browser request
//! (about 500 bytes, permessage-deflate offered): parse, validate (§4.2.1),
//! and write the 101 response, beside tungstenite's, in the same run.
//!
//! - `wsproto`: [`ServerHandshake::handle_input`] of the whole request,
//!   [`Request::accept`](wsproto::handshake::Request::accept) with no
//!   extension, and the response written into a reused `Vec`.
//! - `tungstenite`: the same steps with its public parts:
//!   `Request::try_parse`, `create_response`, `write_response` into a
//!   reused `Vec`.
//! - `tungstenite_accept`: `tungstenite::accept` over an in-memory stream,
//!   the call most users make (it also builds the `WebSocket`).
//!
//! Neither side accepts the extension (tungstenite has no deflate), so both
//! answer with the same three fields.
//!
//! `cargo bench -p wsproto-tools --bench handshake`.

use std::hint::black_box;
use std::io::{Cursor, Read, Write};
use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use wsproto::frame::Status;
use wsproto::handshake::{Accept, ServerHandshake};

/// What Chrome sends, give or take the user agent.
const REQUEST: &[u8] = b"GET /chat?room=lobby HTTP/1.1\r\n\
Host: example.com:8080\r\n\
Connection: Upgrade\r\n\
Pragma: no-cache\r\n\
Cache-Control: no-cache\r\n\
User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36\r\n\
Upgrade: websocket\r\n\
Origin: https://example.com\r\n\
Sec-WebSocket-Version: 13\r\n\
Accept-Encoding: gzip, deflate, br, zstd\r\n\
Accept-Language: en-US,en;q=0.9\r\n\
Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\
\r\n";

/// An in-memory stream for tungstenite: reads the request, keeps the response.
struct Stream<'a> {
    request: Cursor<&'a [u8]>,
    response: Vec<u8>,
}

impl Read for Stream<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        self.request.read(buf)
    }
}

impl Write for Stream<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.response.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn handshake(c: &mut Criterion) {
    let mut group = c.benchmark_group(format!("handshake_{}B", REQUEST.len()));
    group.throughput(Throughput::Bytes(REQUEST.len() as u64));
    group.warm_up_time(Duration::from_millis(500));
    group.measurement_time(Duration::from_secs(2));
    group.sample_size(40);

    let mut out = Vec::with_capacity(256);
    group.bench_function("wsproto", |b| {
        b.iter(|| {
            let mut handshake = ServerHandshake::new(Default::default());
            let Status::Complete(request) = handshake.handle_input(black_box(REQUEST)).unwrap()
            else {
                panic!("partial request");
            };
            let accepted = request.accept(Accept::new()).unwrap();
            out.clear();
            accepted
                .response
                .write_to_vec(&mut out)
                .expect("a head this program built is valid");
            black_box((&out, accepted.negotiated));
        })
    });
    group.bench_function("tungstenite", |b| {
        use tungstenite::handshake::machine::TryParse;
        use tungstenite::handshake::server::{create_response, write_response, Request};
        b.iter(|| {
            let (_, request) = Request::try_parse(black_box(REQUEST)).unwrap().unwrap();
            let response = create_response(&request).unwrap();
            out.clear();
            write_response(&mut out, &response).unwrap();
            black_box(&out);
        })
    });
    group.bench_function("tungstenite_accept", |b| {
        b.iter(|| {
            let stream = Stream {
                request: Cursor::new(black_box(REQUEST)),
                response: Vec::with_capacity(256),
            };
            let ws = tungstenite::accept(stream).unwrap();
            black_box(ws);
        })
    });
    group.finish();
}

criterion_group!(benches, handshake);
criterion_main!(benches);
