//! Preflight benchmark (`cargo bench --bench preflight`): 50 sending IPs
//! against 6 IP block lists, plus SPF, DKIM (2 selectors) and DMARC of 5
//! domains, through a real DNS server on loopback (`hickory-server`, the
//! tests' server in tests/support/dns_server.rs). Each round is one
//! `preflight` run for the first domain with the 50 IPs and the 6 lists
//! (which also evaluates SPF and reverse DNS for each IP) and one run for
//! each of the other 4 domains, one after the other, each with a fresh
//! resolver (cold cache). Target: a round in 2 s or less.
//!
//! `REBOUND_BENCH_ROUNDS` sets the number of rounds (default 10).

#[path = "../tests/support/dns_server.rs"]
mod dns_server;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use base64::Engine as _;
use dns_server::{DnsServer, txt};
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use rebound::dns::DnsOptions;
use rebound::preflight::report::Status;
use rebound::preflight::{Options, run};

const IPS: u8 = 50;
const LISTS: usize = 6;
const DOMAINS: usize = 5;

fn zones() -> Vec<(String, String)> {
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let p = base64::engine::general_purpose::STANDARD
        .encode(key.public_key_to_der().unwrap());
    let dkim = txt(&format!("v=DKIM1; k=rsa; p={p}"));
    let mut com = String::from(
        "_spf IN TXT \"v=spf1 ip4:192.0.2.0/26 include:_spf2.example.com \
         ~all\"\n_spf2 IN TXT \"v=spf1 ip4:198.51.100.0/24 -all\"\n",
    );
    for d in 1..=DOMAINS {
        com.push_str(&format!(
            "bench{d} IN TXT \"v=spf1 mx include:_spf.example.com -all\"\n\
             bench{d} IN MX 10 mx.example.com.\n\
             s1._domainkey.bench{d} IN TXT {dkim}\n\
             s2._domainkey.bench{d} IN TXT {dkim}\n\
             _dmarc.bench{d} IN TXT \"v=DMARC1; p=reject; \
             rua=mailto:dmarc@example.com\"\n"
        ));
    }
    com.push_str("mx IN A 192.0.2.1\n");
    let mut reverse = String::new();
    for i in 1..=IPS {
        reverse.push_str(&format!("{i} IN PTR out{i}.example.com.\n"));
        com.push_str(&format!("out{i} IN A 192.0.2.{i}\n"));
    }
    let mut out = vec![
        ("example.com".to_string(), com),
        ("2.0.192.in-addr.arpa".to_string(), reverse),
    ];
    for l in 1..=LISTS {
        let mut z = String::from("2.0.0.127 IN A 127.0.0.2\n");
        for i in (l as u8..=IPS).step_by(7) {
            z.push_str(&format!("{i}.2.0.192 IN A 127.0.0.2\n"));
        }
        out.push((format!("list{l}.example.net"), z));
    }
    out
}

fn main() {
    let rounds: usize = std::env::var("REBOUND_BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10);
    let zones = zones();
    let refs: Vec<(&str, String)> =
        zones.iter().map(|(o, z)| (o.as_str(), z.clone())).collect();
    let server = DnsServer::start(&refs);
    let dns = DnsOptions {
        server: Some(server.addr),
        timeout: Duration::from_secs(2),
        attempts: 2,
    };
    let ips: Vec<IpAddr> =
        (1..=IPS).map(|i| IpAddr::from([192, 0, 2, i])).collect();
    let lists: Vec<String> =
        (1..=LISTS).map(|l| format!("ip:list{l}.example.net")).collect();
    let selectors = vec!["s1".to_string(), "s2".to_string()];
    let mut times = Vec::new();
    let mut checks = 0;
    let mut failed_lookups = 0;
    for _ in 0..rounds {
        let start = Instant::now();
        checks = 0;
        failed_lookups = 0;
        for d in 1..=DOMAINS {
            let report = run(&Options {
                from_domain: format!("bench{d}.example.com"),
                ips: if d == 1 { ips.clone() } else { Vec::new() },
                zones: lists.clone(),
                selectors: selectors.clone(),
                dns: dns.clone(),
                ..Options::default()
            })
            .expect("preflight runs");
            checks += report.checks.len();
            failed_lookups += report
                .checks
                .iter()
                .filter(|c| c.status == Status::CannotCheck)
                .filter(|c| !c.check.starts_with("bulk."))
                .count();
        }
        times.push(start.elapsed());
    }
    times.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "preflight: {IPS} IPs x {LISTS} lists + SPF/DKIM/DMARC of {DOMAINS} \
         domains: {checks} checks per round, {failed_lookups} cannot-check \
         (want 0); {rounds} rounds: min {:.0} ms, median {:.0} ms, max {:.0} \
         ms (target 2000 ms)",
        ms(times[0]),
        ms(times[times.len() / 2]),
        ms(times[times.len() - 1]),
    );
}
