//! A real authoritative DNS server for the preflight tests and benchmark:
//! `hickory-server` running in-process on 127.0.0.1, one random port over
//! UDP and TCP, serving zone files the caller writes (the records of each
//! zone in master-file syntax; the SOA and NS records are added here).
//! Names outside the served zones are answered REFUSED, as an
//! authoritative server does, which the resolver reports as a failed
//! lookup.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use hickory_server::Server;
use hickory_server::proto::rr::{LowerName, Name};
use hickory_server::store::file::{FileConfig, FileZoneHandler};
use hickory_server::zone_handler::{AxfrPolicy, Catalog, ZoneType};

/// A running server; it lives until the process ends.
pub struct DnsServer {
    /// Where it answers (UDP and TCP).
    pub addr: SocketAddr,
    /// The zone files, kept for the server's lifetime.
    _zones: tempfile::TempDir,
}

/// `text` as the quoted character-strings of a TXT record, split every
/// 255 bytes (RFC 1035 3.3.14; RFC 7208 3.3 and RFC 6376 3.6.2.2 join
/// them again).
pub fn txt(text: &str) -> String {
    text.as_bytes()
        .chunks(255)
        .map(|c| format!("\"{}\"", String::from_utf8_lossy(c)))
        .collect::<Vec<_>>()
        .join(" ")
}

impl DnsServer {
    /// Writes one zone file per `(origin, records)` and starts serving
    /// them; panics (failing the test) when a zone does not load.
    pub fn start(zones: &[(&str, String)]) -> DnsServer {
        let dir = tempfile::tempdir().expect("temporary directory");
        let mut catalog = Catalog::new();
        for (origin, records) in zones {
            let origin = origin.trim_end_matches('.');
            let path: PathBuf = dir.path().join(format!("{origin}.zone"));
            let text = format!(
                "$ORIGIN {origin}.\n$TTL 60\n\
                 @ IN SOA ns.{origin}. hostmaster.{origin}. 1 3600 600 86400 1\n\
                 @ IN NS ns.{origin}.\n{records}\n"
            );
            std::fs::write(&path, text).expect("zone file written");
            let name = Name::from_str(&format!("{origin}.")).unwrap();
            let handler = FileZoneHandler::try_from_config(
                name.clone(),
                ZoneType::Primary,
                AxfrPolicy::Deny,
                None,
                &FileConfig { zone_path: path },
            )
            .unwrap_or_else(|e| panic!("zone {origin} does not load: {e}"));
            catalog.upsert(LowerName::from(name), vec![Arc::new(handler)]);
        }
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async move {
                let mut server = Server::new(catalog);
                // The same port for UDP and TCP: retry until both bind.
                let (udp, tcp) = loop {
                    let udp = tokio::net::UdpSocket::bind("127.0.0.1:0")
                        .await
                        .expect("UDP bind");
                    let addr = udp.local_addr().unwrap();
                    if let Ok(tcp) = tokio::net::TcpListener::bind(addr).await
                    {
                        break (udp, tcp);
                    }
                };
                tx.send(udp.local_addr().unwrap()).unwrap();
                server.register_socket(udp);
                server.register_listener(tcp, Duration::from_secs(5), 64);
                let _ = server.block_until_done().await;
            });
        });
        let addr = rx
            .recv_timeout(Duration::from_secs(10))
            .expect("the DNS server starts");
        DnsServer { addr, _zones: dir }
    }
}
