//! Load benchmark of the collector: starts the real `assent-collector serve` on a temp
//! SQLite file and on a PostgreSQL it starts itself (both syncing every commit to disk),
//! drives N concurrent loopback connections POSTing distinct valid records for a fixed
//! time, and prints records/s with p50/p99 latency next to the same load on
//! `GET /healthz` (the ratio is what to compare across machines: timings are noisy).

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use assent_temp_postgres::{Durability, Listen, TempPostgres};
use clap::{Parser, ValueEnum};

/// The record every POST sends, under a fresh id.
const RECORD: &str = include_str!("../../../crates/collector/tests/data/record.json");

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Debug, Parser)]
// A later flag overrides an earlier one: scripts/bench-collector.sh passes its build's
// `--collector` before the caller's flags.
#[command(
    about = "Records/s and latency of the collector against GET /healthz",
    args_override_self = true
)]
struct Args {
    /// The collector binary (build it with `cargo build --profile server -p
    /// assent-collector`: optimised for speed, where the release profile is for size).
    #[arg(long, default_value = "target/server/assent-collector")]
    collector: PathBuf,
    /// Databases to run against.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "sqlite,postgres"
    )]
    databases: Vec<Backend>,
    /// Concurrent connections.
    #[arg(long, default_value_t = 32)]
    connections: usize,
    /// Length of each measured phase, seconds.
    #[arg(long, default_value_t = 3.0)]
    seconds: f64,
    /// Runs of each phase; the medians are reported.
    #[arg(long, default_value_t = 3)]
    runs: usize,
}

#[derive(Debug, thiserror::Error)]
enum BenchError {
    #[error("{0}: {1}")]
    Io(&'static str, std::io::Error),
    #[error("PostgreSQL: {0}")]
    Postgres(#[from] assent_temp_postgres::Error),
    #[error("the collector did not start: {0:?}")]
    Start(String),
    #[error("request failed: {0}")]
    Http(#[from] reqwest::Error),
    #[error("the test record is not JSON: {0}")]
    Record(#[from] serde_json::Error),
    #[error("`{0}` did not succeed: {1}")]
    Command(&'static str, String),
}

/// A running `serve`, killed on drop.
struct Collector {
    child: Child,
    addr: SocketAddr,
}

impl Collector {
    fn start(bin: &Path, database: &str, dir: &Path) -> Result<Self, BenchError> {
        let mut child = Command::new(bin)
            .args(["serve", "--database", database, "--listen", "127.0.0.1:0"])
            .args(["--rate-per-ip", "0", "--rate-per-site", "0"])
            .arg("--receipt-key")
            .arg(dir.join("receipt.key"))
            .arg("--subject-key")
            .arg(dir.join("subject.key"))
            .arg("--link-key")
            .arg(dir.join("link.key"))
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|err| BenchError::Io("cannot run the collector", err))?;
        let mut line = String::new();
        if let Some(stdout) = child.stdout.take() {
            BufReader::new(stdout)
                .read_line(&mut line)
                .map_err(|err| BenchError::Io("cannot read the collector's output", err))?;
        }
        let addr = line
            .trim()
            .strip_prefix("listening on http://")
            .and_then(|addr| addr.parse().ok());
        match addr {
            Some(addr) => Ok(Self { child, addr }),
            None => {
                let _ = child.kill();
                let _ = child.wait();
                Err(BenchError::Start(line))
            }
        }
    }
}

impl Drop for Collector {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One measured phase.
#[derive(Debug, Clone, Copy)]
struct Phase {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    acknowledged: u64,
    failed: u64,
}

/// What a phase requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Load {
    Healthz,
    Records,
}

/// Distinct record ids for the whole run: a time-based prefix and a counter.
struct Ids {
    prefix: u128,
    next: AtomicU64,
}

impl Ids {
    fn new() -> Self {
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        Self {
            prefix: nanos << 64,
            next: AtomicU64::new(0),
        }
    }

    fn next(&self) -> String {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        uuid::Uuid::from_u128(self.prefix | u128::from(n))
            .hyphenated()
            .to_string()
    }
}

/// `connections` clients sending `load` back to back for `length`.
async fn phase(
    client: &reqwest::Client,
    addr: SocketAddr,
    load: Load,
    connections: usize,
    length: Duration,
    ids: &Arc<Ids>,
) -> Result<Phase, BenchError> {
    let record: serde_json::Value = serde_json::from_str(RECORD)?;
    let started = Instant::now();
    let deadline = started + length;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let (client, ids, mut record) = (client.clone(), ids.clone(), record.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failed = 0u64;
            while Instant::now() < deadline {
                let sent = Instant::now();
                let request = match load {
                    Load::Healthz => client.get(format!("http://{addr}/healthz")),
                    Load::Records => {
                        record["record_id"] = ids.next().into();
                        client
                            .post(format!("http://{addr}/v1/records"))
                            .header("content-type", "application/json")
                            .body(record.to_string())
                    }
                };
                let ok = match request.send().await {
                    Ok(response) => {
                        let status = response.status();
                        response.bytes().await.is_ok() && status.is_success()
                    }
                    Err(_) => false,
                };
                if ok {
                    latencies.push(sent.elapsed());
                } else {
                    failed += 1;
                }
            }
            (latencies, failed)
        }));
    }
    let mut latencies = Vec::new();
    let mut failed = 0;
    for task in tasks {
        let (mine, failures) = task
            .await
            .map_err(|err| BenchError::Io("a client task failed", std::io::Error::other(err)))?;
        latencies.extend(mine);
        failed += failures;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 * q).ceil() as usize).saturating_sub(1);
        latencies
            .get(index)
            .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
    };
    Ok(Phase {
        per_second: latencies.len() as f64 / elapsed,
        p50_ms: at(0.50),
        p99_ms: at(0.99),
        acknowledged: latencies.len() as u64,
        failed,
    })
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(f64::NAN)
}

/// The median of each figure over `phases`.
fn medians(phases: &[Phase]) -> (f64, f64, f64) {
    let pick = |f: fn(&Phase) -> f64| median(&mut phases.iter().map(f).collect::<Vec<_>>());
    (
        pick(|p| p.per_second),
        pick(|p| p.p50_ms),
        pick(|p| p.p99_ms),
    )
}

/// `verify` on the database: the chain must hold exactly the acknowledged records.
fn verify(bin: &Path, database: &str) -> Result<i64, BenchError> {
    let output = Command::new(bin)
        .args(["verify", "--database", database])
        .env("RUST_LOG", "warn")
        .output()
        .map_err(|err| BenchError::Io("cannot run verify", err))?;
    let report: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    match (output.status.success(), report["verified"].as_i64()) {
        (true, Some(rows)) => Ok(rows),
        _ => Err(BenchError::Command("verify", report.to_string())),
    }
}

/// Runs the phases against `backend` and returns its row of the table.
async fn bench(args: &Args, backend: Backend) -> Result<String, BenchError> {
    let dir = tempfile::tempdir().map_err(|err| BenchError::Io("temp directory", err))?;
    // Declared before the collector so that it outlives it.
    let postgres;
    let database = match backend {
        Backend::Sqlite => format!("sqlite:{}", dir.path().join("records.db").display()),
        Backend::Postgres => {
            postgres = TempPostgres::try_start(Durability::Full, Listen::Loopback)?;
            postgres.url.clone()
        }
    };
    let collector = Collector::start(&args.collector, &database, dir.path())?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.connections)
        .timeout(Duration::from_secs(10))
        .build()?;
    let ids = Arc::new(Ids::new());
    let length = Duration::from_secs_f64(args.seconds);
    let addr = collector.addr;
    let warm_up = Duration::from_millis(500);
    let warm = phase(
        &client,
        addr,
        Load::Records,
        args.connections,
        warm_up,
        &ids,
    )
    .await?;

    let (mut health, mut records) = (Vec::new(), Vec::new());
    for run in 1..=args.runs {
        let h = phase(&client, addr, Load::Healthz, args.connections, length, &ids).await?;
        let r = phase(&client, addr, Load::Records, args.connections, length, &ids).await?;
        eprintln!(
            "  {backend:?} run {run}: GET /healthz {:>7.0}/s p50 {:>5.1} ms p99 {:>5.1} ms | POST /v1/records {:>6.0}/s p50 {:>5.1} ms p99 {:>5.1} ms ({} failed)",
            h.per_second, h.p50_ms, h.p99_ms, r.per_second, r.p50_ms, r.p99_ms, r.failed + h.failed
        );
        health.push(h);
        records.push(r);
    }
    drop(collector);
    let acknowledged = warm.acknowledged + records.iter().map(|r| r.acknowledged).sum::<u64>();
    let verified = verify(&args.collector, &database)?;

    let (h_rate, h_p50, h_p99) = medians(&health);
    let (r_rate, r_p50, r_p99) = medians(&records);
    let row = format!(
        "| {backend:?} | {} | {r_rate:.0} | {r_p50:.1} | {r_p99:.1} | {h_rate:.0} | {h_p50:.1} | {h_p99:.1} | {:.2} | {verified} of {acknowledged} |",
        args.connections,
        r_rate / h_rate,
    );
    if u64::try_from(verified).ok() != Some(acknowledged) {
        return Err(BenchError::Command(
            "verify",
            format!("the chain holds {verified} rows, {acknowledged} were acknowledged"),
        ));
    }
    Ok(row)
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let mut rows = Vec::new();
    for backend in &args.databases {
        match bench(&args, *backend).await {
            Ok(row) => rows.push(row),
            Err(err) => {
                eprintln!("{backend:?}: {err}");
                return ExitCode::FAILURE;
            }
        }
    }
    println!(
        "{} connections, {} runs of {} s per phase, medians:",
        args.connections, args.runs, args.seconds
    );
    println!("| database | connections | records/s | p50 ms | p99 ms | healthz/s | healthz p50 ms | healthz p99 ms | records/healthz | chain rows (verify) of acknowledged |");
    println!("|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|");
    for row in rows {
        println!("{row}");
    }
    ExitCode::SUCCESS
}
